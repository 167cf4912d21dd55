/**
 * The web front's subscriptions: every event about an order — its place-order saga, its
 * fulfilment (dispatch, delivery) and its cancellation — becomes a step of its order's timeline
 * (announced to the live order pages as it commits), and the user events keep the customer list
 * of the admin console. The web front publishes nothing.
 * @module
 */
import type { TxSql } from "@stocklet/shared/db";
import { events } from "@stocklet/shared/proto";
import { type EventMeta, on, type Reaction } from "@stocklet/shared/reaction";
import { changeEmail, type Customer, forgetCustomer, recordStep, upsertCustomer } from "./store.ts";
import {
  allocationStep,
  approvedStep,
  cancelledStep,
  cancellingStep,
  deliveredStep,
  dispatchedStep,
  paymentStep,
  pendingStep,
  placedStep,
  quoteStep,
  refundStep,
  rejectedStep,
  reservationStep,
  shipmentCancelledStep,
  type TimelineStep,
} from "./timeline.ts";

/** When the event's producer committed it (now, if the header is missing). */
function committedAt(meta: EventMeta): Date {
  return meta.createdAt ?? new Date();
}

/** Stores a step (if the event is one), dated when its producer committed it. */
function step(tx: TxSql, meta: EventMeta, s: TimelineStep | undefined): Promise<void> {
  if (!s) return Promise.resolve();
  return recordStep(tx, meta.id, committedAt(meta), s);
}

/** A customer as a `user.state.created` event describes them. */
function customerOf(e: events.UserCreatedEvent): Customer {
  return { id: e.userId, email: e.email, firstName: e.firstName, lastName: e.lastName };
}

/** The web front's reactions. */
export function webReactions(): Reaction[] {
  return [
    on(
      "order.state.created",
      events.OrderCreatedEventSchema,
      (e, tx, m) => step(tx, m, placedStep(e)),
    ),
    on(
      "product.pricequotation",
      events.ProductPriceQuoteEventSchema,
      (e, tx, m) => step(tx, m, quoteStep(e)),
    ),
    on(
      "order.state.pending",
      events.OrderPendingEventSchema,
      (e, tx, m) => step(tx, m, pendingStep(e)),
    ),
    on(
      "warehouse.reservation.reserved",
      events.StockReservationEventSchema,
      (e, tx, m) => step(tx, m, reservationStep(e)),
    ),
    on(
      "warehouse.reservation.failed",
      events.StockReservationEventSchema,
      (e, tx, m) => step(tx, m, reservationStep(e)),
    ),
    on(
      "warehouse.reservation.returned",
      events.StockReservationEventSchema,
      (e, tx, m) => step(tx, m, reservationStep(e)),
    ),
    on(
      "warehouse.reservation.consumed",
      events.StockReservationEventSchema,
      (e, tx, m) => step(tx, m, reservationStep(e)),
    ),
    on(
      "shipping.shipment.allocation",
      events.ShipmentAllocationEventSchema,
      (e, tx, m) => step(tx, m, allocationStep(e)),
    ),
    on(
      "shipping.shipment.allocation.failed",
      events.ShipmentAllocationEventSchema,
      (e, tx, m) => step(tx, m, allocationStep(e)),
    ),
    on(
      "shipping.shipment.dispatched",
      events.ShipmentDispatchedEventSchema,
      (e, tx, m) => step(tx, m, dispatchedStep(e)),
    ),
    on(
      "shipping.shipment.delivered",
      events.ShipmentDeliveredEventSchema,
      (e, tx, m) => step(tx, m, deliveredStep(e)),
    ),
    on(
      "shipping.shipment.cancelled",
      events.ShipmentCancelledEventSchema,
      (e, tx, m) => step(tx, m, shipmentCancelledStep(e)),
    ),
    on(
      "payment.processing",
      events.PaymentProcessedEventSchema,
      (e, tx, m) => step(tx, m, paymentStep(e)),
    ),
    on(
      "payment.transaction.reversed",
      events.TransactionReversedEventSchema,
      (e, tx, m) => step(tx, m, refundStep(e)),
    ),
    on(
      "order.state.approved",
      events.OrderApprovedEventSchema,
      (e, tx, m) => step(tx, m, approvedStep(e)),
    ),
    on(
      "order.state.rejected",
      events.OrderRejectedEventSchema,
      (e, tx, m) => step(tx, m, rejectedStep(e)),
    ),
    on(
      "order.state.cancelling",
      events.OrderCancellingEventSchema,
      (e, tx, m) => step(tx, m, cancellingStep(e)),
    ),
    on(
      "order.state.cancelled",
      events.OrderCancelledEventSchema,
      (e, tx, m) => step(tx, m, cancelledStep(e)),
    ),

    on(
      "user.state.created",
      events.UserCreatedEventSchema,
      (e, tx, m) => upsertCustomer(tx, customerOf(e), committedAt(m)),
    ),
    on(
      "user.attr.email",
      events.UserEmailUpdatedEventSchema,
      (e, tx) => changeEmail(tx, e.userId, e.email),
    ),
    on(
      "user.state.deleted",
      events.UserDeletedEventSchema,
      (e, tx) => forgetCustomer(tx, e.userId),
    ),
  ];
}
