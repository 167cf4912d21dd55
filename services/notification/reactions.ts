/**
 * The notification service's subscriptions, topic → step: the user events (its projection of the
 * customers) and every business event a customer hears about. All of them come after the
 * place-order saga decided (approval or rejection), so none delays it.
 * @module
 */
import { events } from "@stocklet/shared/proto";
import { on, type Reaction } from "@stocklet/shared/reaction";
import {
  changeCustomerEmail,
  forgetCustomer,
  orderApproved,
  orderCancelled,
  orderDelivered,
  orderRejected,
  orderShipped,
  rememberCustomer,
} from "./steps.ts";

/** The notification service's reactions. */
export function notificationReactions(): Reaction[] {
  return [
    on("user.state.created", events.UserCreatedEventSchema, (e, tx) => rememberCustomer(tx, e)),
    on(
      "user.attr.email",
      events.UserEmailUpdatedEventSchema,
      (e, tx) => changeCustomerEmail(tx, e),
    ),
    on("user.state.deleted", events.UserDeletedEventSchema, (e, tx) => forgetCustomer(tx, e)),
    on("order.state.approved", events.OrderApprovedEventSchema, (e, tx) => orderApproved(tx, e)),
    on("order.state.rejected", events.OrderRejectedEventSchema, (e, tx) => orderRejected(tx, e)),
    on(
      "shipping.shipment.dispatched",
      events.ShipmentDispatchedEventSchema,
      (e, tx) => orderShipped(tx, e),
    ),
    on(
      "shipping.shipment.delivered",
      events.ShipmentDeliveredEventSchema,
      (e, tx) => orderDelivered(tx, e),
    ),
    on("order.state.cancelled", events.OrderCancelledEventSchema, (e, tx) => orderCancelled(tx, e)),
  ];
}
