/**
 * The notification service's steps, each a function of an event and the transaction it runs in:
 * keep the customers' addresses and names as the user events tell them, and record one
 * notification per business event (approved, rejected, shipped, delivered, cancelled). Nothing is
 * sent here: sending is slow and cannot be undone, so it happens after the commit (sender.ts), and
 * a redelivered or replayed event finds its notification recorded and records nothing.
 * @module
 */
import type { Tx } from "@stocklet/shared/db";
import { uuidv7 } from "@stocklet/shared/ids";
import type { events } from "@stocklet/shared/proto";
import { type Facts, Kind, reasonName, subjectOf } from "./domain.ts";
import {
  insertCustomer,
  insertNotification,
  markCustomerDeleted,
  updateCustomerEmail,
} from "./store.ts";

/** `user.state.created`: remember the customer's address and name. */
export async function rememberCustomer(tx: Tx, e: events.UserCreatedEvent): Promise<void> {
  await insertCustomer(tx, {
    id: e.userId,
    email: e.email,
    firstName: e.firstName,
    lastName: e.lastName,
  });
}

/** `user.attr.email`: the customer's new address. */
export async function changeCustomerEmail(
  tx: Tx,
  e: events.UserEmailUpdatedEvent,
): Promise<void> {
  await updateCustomerEmail(tx, e.userId, e.email);
}

/** `user.state.deleted`: no more emails to this customer. */
export async function forgetCustomer(tx: Tx, e: events.UserDeletedEvent): Promise<void> {
  await markCustomerDeleted(tx, e.userId);
}

/**
 * Records a notification of `kind` for an order (PENDING; the sender takes it from there), once:
 * returns false when that order already has one of that kind.
 */
export async function recordNotification(
  tx: Tx,
  kind: Kind,
  e: { orderId: string; customerId: string },
  facts: Facts = {},
): Promise<boolean> {
  if (!e.customerId) return false; // nobody to tell (an event from before customers were named)
  return await insertNotification(tx, {
    id: uuidv7(),
    kind,
    orderId: e.orderId,
    customerId: e.customerId,
    subject: subjectOf(kind, e.orderId, facts),
    facts,
  });
}

/** `order.state.approved`: the order is confirmed, with its total. */
export async function orderApproved(tx: Tx, e: events.OrderApprovedEvent): Promise<void> {
  await recordNotification(tx, Kind.ORDER_APPROVED, e, {
    amountCents: String(e.totalPriceCents),
  });
}

/** `order.state.rejected`: the order could not be placed, and why. */
export async function orderRejected(tx: Tx, e: events.OrderRejectedEvent): Promise<void> {
  await recordNotification(tx, Kind.ORDER_REJECTED, e, { reason: reasonName(e.reason) });
}

/** `shipping.shipment.dispatched`: on its way, with the carrier and tracking number. */
export async function orderShipped(tx: Tx, e: events.ShipmentDispatchedEvent): Promise<void> {
  await recordNotification(tx, Kind.ORDER_SHIPPED, e, {
    carrier: e.carrier,
    trackingNumber: e.trackingNumber,
  });
}

/** `shipping.shipment.delivered`: delivered. */
export async function orderDelivered(tx: Tx, e: events.ShipmentDeliveredEvent): Promise<void> {
  await recordNotification(tx, Kind.ORDER_DELIVERED, e, {
    carrier: e.carrier,
    trackingNumber: e.trackingNumber,
  });
}

/** `order.state.cancelled`: cancelled, and what was refunded. */
export async function orderCancelled(tx: Tx, e: events.OrderCancelledEvent): Promise<void> {
  await recordNotification(tx, Kind.ORDER_CANCELLED, e, {
    amountCents: String(e.refundedCents),
  });
}
