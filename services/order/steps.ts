/**
 * The order's side of the place-order saga, each step a function of an event (or a request) and
 * the transaction it runs in: it moves the order along the status machine and publishes the next
 * event in the same transaction. A step that finds the order elsewhere (a late, repeated or
 * out-of-order event) does nothing and publishes nothing.
 * @module
 */
import type { Tx } from "@stocklet/shared/db";
import { uuidv7 } from "@stocklet/shared/ids";
import { getLog } from "@stocklet/shared/logging";
import { events } from "@stocklet/shared/proto";
import { checkQuote, eventReason, RejectReason, Status, transitions } from "./domain.ts";
import { findOrder, insertOrder, markPending, moveOrder, type OrderRow } from "./store.ts";

const log = getLog("order", "saga");

/** A customer's cart: a new order in PROCESSING, and `order.state.created` that starts the saga. */
export async function placeOrder(
  tx: Tx,
  customerId: string,
  items: Record<string, number>,
): Promise<OrderRow> {
  const o = await insertOrder(tx, { id: uuidv7(), customerId, status: Status.PROCESSING, items });
  tx.publish("order.state.created", o.id, events.OrderCreatedEventSchema, {
    revision: 1,
    orderId: o.id,
    customerId: o.customer_id,
    itemQuantities: o.items,
  });
  return o;
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
  if (!o) return;
  tx.publish("order.state.pending", o.id, events.OrderPendingEventSchema, {
    revision: 1,
    orderId: o.id,
    customerId: o.customer_id,
    itemQuantities: o.items,
    itemsPriceCents: o.items_price_cents ?? 0n,
    totalPriceCents: o.total_price_cents ?? 0n,
  });
}

/** `payment.processing` SUCCESS: PENDING → APPROVED, `order.state.approved`. */
export async function approveOrder(tx: Tx, e: events.PaymentProcessedEvent): Promise<void> {
  const transactionId = e.transactionId ?? "";
  const o = await moveOrder(tx, e.orderId, Status.APPROVED, {
    transactionId,
    ...(e.shipmentId ? { shipmentId: e.shipmentId } : {}),
  });
  if (!o) return;
  tx.publish("order.state.approved", o.id, events.OrderApprovedEventSchema, {
    revision: 1,
    orderId: o.id,
    transactionId,
    shippingId: o.shipment_id ?? "",
    customerId: o.customer_id,
    totalPriceCents: o.total_price_cents ?? 0n,
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
  tx.publish("order.state.rejected", o.id, events.OrderRejectedEventSchema, {
    revision: 1,
    orderId: o.id,
    customerId: o.customer_id,
    reason: eventReason(reason),
    ...(o.transaction_id ? { transactionId: o.transaction_id } : {}),
    ...(o.shipment_id ? { shippingId: o.shipment_id } : {}),
  });
}
