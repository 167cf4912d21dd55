/**
 * Shipping's subscriptions, topic → step: reserved stock, failed payments and rejected orders
 * (the place-order saga); approved orders (ready to dispatch) and cancelled ones.
 * @module
 */
import { events } from "@stocklet/shared/proto";
import { on, type Reaction } from "@stocklet/shared/reaction";
import { allocateShipment, cancelShipment, readyShipment, releaseShipment } from "./steps.ts";

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

    on("order.state.approved", events.OrderApprovedEventSchema, (e, tx) => readyShipment(tx, e)),

    on(
      "order.state.cancelling",
      events.OrderCancellingEventSchema,
      (e, tx) => cancelShipment(tx, e),
    ),
  ];
}
