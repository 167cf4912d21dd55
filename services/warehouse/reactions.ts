/**
 * The warehouse's subscriptions, topic → step: new products, pending orders, failed allocations,
 * payment outcomes and rejected orders.
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

    on(
      "payment.processing",
      events.PaymentProcessedEventSchema,
      (e, tx) => e.type === Payment.SUCCESS ? consumeReservation(tx, e) : returnReservation(tx, e),
      { filter: (e) => e.type === Payment.SUCCESS || e.type === Payment.FAILED },
    ),

    on(
      "order.state.rejected",
      events.OrderRejectedEventSchema,
      (e, tx) => returnReservation(tx, e),
    ),
  ];
}
