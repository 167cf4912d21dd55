/**
 * Payment's subscriptions, topic → step: new users, allocated shipments and rejected orders (the
 * place-order saga), and cancelled orders whose shipment was released (the refund).
 * @module
 */
import { events } from "@stocklet/shared/proto";
import { on, type Reaction } from "@stocklet/shared/reaction";
import { openCustomerBalance, payForOrder, refundOrder } from "./steps.ts";

const Allocation = events.ShipmentAllocationEvent_Type;

/** Payment's reactions. Only an ALLOCATED shipment is paid for (seed defect B8). */
export function paymentReactions(): Reaction[] {
  return [
    on("user.state.created", events.UserCreatedEventSchema, (e, tx) => openCustomerBalance(tx, e)),
    on(
      "shipping.shipment.allocation",
      events.ShipmentAllocationEventSchema,
      (e, tx) => payForOrder(tx, e),
      { filter: (e) => e.type === Allocation.ALLOCATED },
    ),
    on("order.state.rejected", events.OrderRejectedEventSchema, (e, tx) => refundOrder(tx, e)),
    on(
      "shipping.shipment.cancelled",
      events.ShipmentCancelledEventSchema,
      (e, tx) => refundOrder(tx, e),
    ),
  ];
}
