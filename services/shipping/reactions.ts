/**
 * Shipping's subscriptions, topic → step: reserved stock and rejected orders (the place-order
 * saga); approved orders (ready to dispatch) and cancelling ones.
 *
 * A failed payment is not heard here: the order service rejects the order on it, and
 * `order.state.rejected` releases the shipment as it does for every other rejection. Listening to
 * `payment.processing` as well, as the Go original does, would wake this consumer for every
 * order's payment and act on only the rare failures.
 * @module
 */
import { events } from "@stocklet/shared/proto";
import { on, type Reaction } from "@stocklet/shared/reaction";
import { allocateShipment, cancelShipment, readyShipment, releaseShipment } from "./steps.ts";

const Stock = events.StockReservationEvent_Type;

/** Shipping's reactions; `maxUnits` is the per-shipment limit. */
export function shippingReactions(maxUnits: number): Reaction[] {
  return [
    on(
      "warehouse.reservation.reserved",
      events.StockReservationEventSchema,
      (e, tx) => allocateShipment(tx, e, maxUnits),
      { filter: (e) => e.type === Stock.STOCK_RESERVED },
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
