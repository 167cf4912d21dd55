/**
 * The order's side of the place-order saga, each step a function of an event (or a request) and
 * the transaction it runs in: it moves the order along the status machine and publishes the next
 * event in the same transaction. A step that finds the order elsewhere (a late, repeated or
 * out-of-order event) does nothing and publishes nothing.
 * @module
 */
import type { Tx } from "@stocklet/shared/db";
import { failedPrecondition } from "@stocklet/shared/errors";
import { uuidv7 } from "@stocklet/shared/ids";
import { getLog } from "@stocklet/shared/logging";
import { events } from "@stocklet/shared/proto";
import { priceItems } from "@stocklet/shared/pricing";
import type { EventMeta } from "@stocklet/shared/reaction";
import {
  checkQuote,
  decideCancel,
  eventReason,
  RejectReason,
  Status,
  transitions,
} from "./domain.ts";
import { sagaEnded, sagaStarted } from "./metrics.ts";
import {
  findOrder,
  insertOrder,
  knownPrices,
  lockOrder,
  markCancelRequested,
  markPaid,
  markPending,
  moveOrder,
  type OrderRow,
  type OrderState,
  recordCompensation,
  recordShipment,
  rememberPrice,
} from "./store.ts";

const log = getLog("order", "saga");

/**
 * A customer's cart becomes a new order. When the order service knows the price of every product
 * in it (its copy of the catalogue's prices, see {@linkcode learnPrice}), the order is priced at
 * once: PENDING with its prices, and `order.state.pending` asks the warehouse for the stock — two
 * events and two transactions fewer than asking the product service. Otherwise (a product it has
 * not heard of yet, or one not sold) it starts in PROCESSING with `order.state.created`, and the
 * product service quotes it (or refuses it) as the place-order saga always did.
 */
export async function placeOrder(
  tx: Tx,
  customerId: string,
  items: Record<string, number>,
): Promise<OrderRow> {
  const priced = priceItems(items, await knownPrices(tx, Object.keys(items)));
  const id = uuidv7();
  sagaStarted(tx);
  if (priced.kind === "priced") {
    const o = await insertOrder(tx, { id, customerId, status: Status.PENDING, items, priced });
    publishPending(tx, o);
    return o;
  }
  const o = await insertOrder(tx, { id, customerId, status: Status.PROCESSING, items });
  tx.publish("order.state.created", o.id, events.OrderCreatedEventSchema, {
    revision: 1,
    orderId: o.id,
    customerId: o.customer_id,
    itemQuantities: o.items,
  });
  return o;
}

/** `order.state.pending`: the order is priced; the warehouse reserves its stock next. */
function publishPending(tx: Tx, o: OrderRow): void {
  tx.publish("order.state.pending", o.id, events.OrderPendingEventSchema, {
    revision: 1,
    orderId: o.id,
    customerId: o.customer_id,
    itemQuantities: o.items,
    itemsPriceCents: o.items_price_cents ?? 0n,
    totalPriceCents: o.total_price_cents ?? 0n,
  });
}

/**
 * `product.state.created` and `product.attr.price`: the order service's copy of a product's price
 * (what prices an order as it is placed); `product.state.deleted` (price null): it is no longer
 * sold, and orders of it go to the product service, which refuses them. The event's id orders the
 * news: product's events travel on three topics, and a late one never overwrites a newer one.
 */
export async function learnPrice(
  tx: Tx,
  productId: string,
  priceCents: bigint | null,
  meta: EventMeta,
): Promise<void> {
  await rememberPrice(tx, productId, priceCents, meta.id);
}

/** `product.pricequotation` AVAILABLE: PROCESSING → PENDING with prices, `order.state.pending`. */
export async function priceOrder(tx: Tx, quote: events.ProductPriceQuoteEvent): Promise<void> {
  const current = await findOrder(tx, quote.orderId);
  if (!current) return log.warn("quote for unknown order {orderId}", { orderId: quote.orderId });
  if (!transitions.canMove(current.status, Status.PENDING)) return; // priced already, or over
  const problem = checkQuote(current.items, quote);
  if (problem) {
    // A quote that does not match the order cannot be trusted with money: reject, loudly.
    log.error("bad quote for {orderId}: {problem}", { orderId: quote.orderId, problem });
    return rejectOrder(tx, quote.orderId, RejectReason.PRODUCT_UNAVAILABLE);
  }
  const o = await markPending(tx, quote.orderId, {
    unit: quote.productPricesCents,
    itemsCents: quote.totalPriceCents,
    totalCents: quote.totalPriceCents,
  }, current.items);
  if (o) publishPending(tx, o);
}

/**
 * `payment.processing` SUCCESS: PENDING → APPROVED, `order.state.approved`; or, when the customer
 * asked to cancel meanwhile, PENDING → CANCELLING, `order.state.cancelling` (the order is paid, so
 * it is cancelled the way an approved one is).
 */
export async function approveOrder(tx: Tx, e: events.PaymentProcessedEvent): Promise<void> {
  const transactionId = e.transactionId ?? "";
  const o = await markPaid(tx, e.orderId, {
    transactionId,
    ...(e.shipmentId ? { shipmentId: e.shipmentId } : {}),
  });
  if (!o) return;
  if (o.status === Status.CANCELLING) {
    // Cancelled while being placed: the place-order saga ends here, cancelled rather than approved.
    sagaEnded(tx, "cancelled", o.created_at);
    return announceCancelling(tx, o);
  }
  sagaEnded(tx, "approved", o.created_at);
  tx.publish("order.state.approved", o.id, events.OrderApprovedEventSchema, {
    revision: 1,
    orderId: o.id,
    transactionId,
    shippingId: o.shipment_id ?? "",
    customerId: o.customer_id,
    totalPriceCents: o.total_price_cents ?? 0n,
  });
}

function announceCancelling(tx: Tx, o: OrderState): void {
  tx.publish("order.state.cancelling", o.id, events.OrderCancellingEventSchema, {
    revision: 1,
    orderId: o.id,
    customerId: o.customer_id,
    shipmentId: o.shipment_id ?? "",
    transactionId: o.transaction_id ?? "",
    totalPriceCents: o.total_price_cents ?? 0n,
  });
}

/**
 * A cancellation request (the customer's or an admin's), on the locked order: an APPROVED order
 * moves to CANCELLING and publishes `order.state.cancelling`; one still being placed is marked
 * (the payment step cancels it as soon as it is paid); asking again changes nothing. Throws
 * FAILED_PRECONDITION (409) for an order that was dispatched, delivered or rejected.
 *
 * @returns The order as the request left it, or undefined when it does not exist.
 */
export async function cancelOrder(tx: Tx, orderId: string): Promise<OrderRow | undefined> {
  const current = await lockOrder(tx, orderId);
  if (!current) return undefined;
  const decision = decideCancel(current.status, current.cancel_requested_at !== null);
  switch (decision.action) {
    case "refuse":
      throw failedPrecondition(decision.reason);
    case "mark":
      await markCancelRequested(tx, orderId);
      break;
    case "cancel": {
      await markCancelRequested(tx, orderId);
      const o = await moveOrder(tx, orderId, Status.CANCELLING);
      if (o) announceCancelling(tx, o);
      break;
    }
    case "none":
      break;
  }
  return await findOrder(tx, orderId);
}

/**
 * `shipping.shipment.dispatched` and `.delivered`: the order follows its shipment to SHIPPED, then
 * COMPLETED, keeping the carrier and tracking number (also a CANCELLING order: the dispatch got
 * to the shipment first, so the cancellation lost). Shipping's events tell the fact; the order
 * publishes nothing more about it.
 */
export async function followShipment(
  tx: Tx,
  e: events.ShipmentDispatchedEvent | events.ShipmentDeliveredEvent,
  delivered: boolean,
): Promise<void> {
  const r = await recordShipment(tx, e.orderId, delivered ? Status.COMPLETED : Status.SHIPPED, {
    shipmentId: e.shipmentId,
    carrier: e.carrier,
    trackingNumber: e.trackingNumber,
    delivered,
  });
  if (!r) return log.warn("shipment news for unknown order {orderId}", { orderId: e.orderId });
}

/**
 * `warehouse.reservation.returned` and `payment.transaction.reversed` of a CANCELLING order: one
 * compensation more is done; once the stock is back and the payment refunded (the shipment was
 * released before either began), the order is CANCELLED (`order.state.cancelled`, with the amount
 * refunded). Reports about orders that are not being cancelled (a rejection's compensations) are
 * ignored.
 */
export async function recordCancellation(
  tx: Tx,
  orderId: string,
  done: { stockReturned: true } | { refundedCents: bigint },
): Promise<void> {
  const o = await recordCompensation(tx, orderId, done);
  if (!o || o.stock_returned_at === null || o.refunded_cents === null) return;
  const cancelled = await moveOrder(tx, orderId, Status.CANCELLED);
  if (!cancelled) return;
  tx.publish("order.state.cancelled", orderId, events.OrderCancelledEventSchema, {
    revision: 1,
    orderId,
    customerId: cancelled.customer_id,
    refundedCents: cancelled.refunded_cents ?? 0n,
  });
}

/**
 * Rejects an in-flight order and publishes `order.state.rejected`, which every participant treats as
 * "undo whatever you did for this order" (and "never do it later").
 */
export async function rejectOrder(
  tx: Tx,
  orderId: string,
  reason: RejectReason,
  /** The shipment the failure concerns (a failed or released allocation), to show on the order. */
  shipmentId?: string,
): Promise<void> {
  const o = await moveOrder(tx, orderId, Status.REJECTED, {
    rejectReason: reason,
    ...(shipmentId ? { shipmentId } : {}),
  });
  if (!o) return;
  sagaEnded(tx, "rejected", o.created_at, reason);
  tx.publish("order.state.rejected", o.id, events.OrderRejectedEventSchema, {
    revision: 1,
    orderId: o.id,
    customerId: o.customer_id,
    reason: eventReason(reason),
    ...(o.transaction_id ? { transactionId: o.transaction_id } : {}),
    ...(o.shipment_id ? { shippingId: o.shipment_id } : {}),
  });
}
