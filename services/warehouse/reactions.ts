/**
 * The warehouse's subscriptions, topic → step: new products, pending orders, failed allocations,
 * failed payments and rejected orders (the place-order saga); dispatched shipments (the stock
 * leaves) and cancelled ones (the stock comes back).
 * @module
 */
import { events } from "@stocklet/shared/proto";
import { on, type Reaction } from "@stocklet/shared/reaction";
import { consumeReservation, openProductStock, reserveOrder, returnReservation } from "./steps.ts";

const Payment = events.PaymentProcessedEvent_Type;
const Allocation = events.ShipmentAllocationEvent_Type;

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
      "shipping.shipment.allocation",
      events.ShipmentAllocationEventSchema,
      (e, tx) =>
        returnReservation(tx, {
          orderId: e.orderId,
          customerId: e.orderMetadata?.customerId ?? "",
        }),
      { filter: (e) => e.type === Allocation.FAILED },
    ),

    // A successful payment changes nothing here: the stock stays reserved until it physically
    // leaves with the shipment (below), so a cancellation before dispatch simply returns it.
    on(
      "payment.processing",
      events.PaymentProcessedEventSchema,
      (e, tx) => returnReservation(tx, e),
      { filter: (e) => e.type === Payment.FAILED },
    ),

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
