/**
 * Shipping's subscriptions, topic → step: reserved stock, failed payments and rejected orders.
 * @module
 */
import { events } from "@stocklet/shared/proto";
import { on, type Reaction } from "@stocklet/shared/reaction";
import { allocateShipment, releaseShipment } from "./steps.ts";

const Stock = events.StockReservationEvent_Type;
const Payment = events.PaymentProcessedEvent_Type;

/** Shipping's reactions; `maxUnits` is the per-shipment limit. */
export function shippingReactions(maxUnits: number): Reaction[] {
  return [
    on(
      "warehouse.reservation.reserved",
      events.StockReservationEventSchema,
      (e, tx) => allocateShipment(tx, e, maxUnits),
      { filter: (e) => e.type === Stock.STOCK_RESERVED },
    ),

    on(
      "payment.processing",
      events.PaymentProcessedEventSchema,
      (e, tx) => releaseShipment(tx, e),
      { filter: (e) => e.type === Payment.FAILED },
    ),

    on("order.state.rejected", events.OrderRejectedEventSchema, (e, tx) => releaseShipment(tx, e)),
  ];
}
