/**
 * The warehouse's subscriptions: new products, pending orders, failed allocations, payments and
 * rejected orders.
 * @module
 */
import { events } from "@stocklet/shared/proto";
import { on, type Reaction } from "@stocklet/shared/reaction";
import { consumeReservation, openProductStock, reserveOrder, returnReservation } from "./stock.ts";

const Payment = events.PaymentProcessedEvent_Type;
const Allocation = events.ShipmentAllocationEvent_Type;

/** The warehouse's reactions. */
export function warehouseReactions(): Reaction[] {
  return [
    on(
      "product.state.created",
      events.ProductCreatedEventSchema,
      (e, tx) => openProductStock(tx, e.productId),
    ),

    on("order.state.pending", events.OrderPendingEventSchema, (e, tx) => reserveOrder(tx, e)),

    on(
      "shipping.shipment.allocation",
      events.ShipmentAllocationEventSchema,
      (e, tx) => returnReservation(tx, e.orderId, e.orderMetadata?.customerId ?? ""),
      {
        filter: (e) => e.type === Allocation.FAILED,
      },
    ),

    on(
      "payment.processing",
      events.PaymentProcessedEventSchema,
      (e, tx) =>
        e.type === Payment.SUCCESS
          ? consumeReservation(tx, e.orderId)
          : returnReservation(tx, e.orderId, e.customerId),
      {
        filter: (e) => e.type === Payment.SUCCESS || e.type === Payment.FAILED,
      },
    ),

    on(
      "order.state.rejected",
      events.OrderRejectedEventSchema,
      (e, tx) => returnReservation(tx, e.orderId, e.customerId),
    ),
  ];
}
