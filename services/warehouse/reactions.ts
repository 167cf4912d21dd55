/**
 * The warehouse's subscriptions, topic → step: new products, pending orders and rejected orders
 * (the place-order saga); dispatched shipments (the stock leaves) and cancelled ones (the stock
 * comes back).
 *
 * A failed allocation or payment is not heard here: the order service rejects the order on it and
 * `order.state.rejected` returns the stock, as it does for every other rejection (a timeout, a
 * failed quote). Listening to `shipping.shipment.allocation` and `payment.processing` as well, as
 * the Go original does, would wake this consumer for every order's allocation and payment, and
 * act on only the rare failures.
 * @module
 */
import { events } from "@stocklet/shared/proto";
import { on, type Reaction } from "@stocklet/shared/reaction";
import { consumeReservation, openProductStock, reserveOrder, returnReservation } from "./steps.ts";

/** The warehouse's reactions. */
export function warehouseReactions(): Reaction[] {
  return [
    on(
      "product.state.created",
      events.ProductCreatedEventSchema,
      (e, tx) => openProductStock(tx, e),
    ),

    on("order.state.pending", events.OrderPendingEventSchema, (e, tx) => reserveOrder(tx, e)),

    on(
      "shipping.shipment.dispatched",
      events.ShipmentDispatchedEventSchema,
      (e, tx) => consumeReservation(tx, e),
    ),

    on(
      "shipping.shipment.cancelled",
      events.ShipmentCancelledEventSchema,
      (e, tx) => returnReservation(tx, e),
    ),

    on(
      "order.state.rejected",
      events.OrderRejectedEventSchema,
      (e, tx) => returnReservation(tx, e),
    ),
  ];
}
