/**
 * The order's rules: its status machine, its price check and what a cancellation may do. Orders
 * only move forward: PROCESSING → PENDING → APPROVED (the place-order saga), or to REJECTED from
 * either in-flight state; then SHIPPED on dispatch and COMPLETED on delivery, or CANCELLING →
 * CANCELLED when the customer cancels before dispatch. Final states never change again, so a late
 * or repeated event cannot move an order back or make it publish twice.
 *
 * Where a cancellation and a dispatch race, the shipment decides (shipping's shipment row): a
 * CANCELLING order whose shipment had already left follows it to SHIPPED (or COMPLETED).
 * Deliveries and dispatches travel on two topics, which are not ordered with each other, so a
 * delivery may be the first the order hears of its shipment: it moves straight to COMPLETED.
 * @module
 */
import type { events } from "@stocklet/shared/proto";
import { order } from "@stocklet/shared/proto";
import { type StatusMachine, statusMachine } from "@stocklet/shared/status_machine";

/** An order status. */
export type Status = order.OrderStatus;
/** The statuses. */
export const Status = order.OrderStatus;

/** The moves an order may make. */
export const transitions: StatusMachine<Status> = statusMachine<Status>({
  [Status.PROCESSING]: [Status.PENDING, Status.REJECTED],
  // CANCELLING: paid while a cancellation was asked for.
  [Status.PENDING]: [Status.APPROVED, Status.REJECTED, Status.CANCELLING],
  [Status.APPROVED]: [Status.SHIPPED, Status.COMPLETED, Status.CANCELLING],
  // SHIPPED, COMPLETED: the dispatch got to the shipment before the cancellation did.
  [Status.CANCELLING]: [Status.CANCELLED, Status.SHIPPED, Status.COMPLETED],
  [Status.SHIPPED]: [Status.COMPLETED],
  [Status.REJECTED]: [],
  [Status.COMPLETED]: [],
  [Status.CANCELLED]: [],
});

/** The statuses of an order whose saga still runs (it can still be rejected). */
export const IN_FLIGHT: readonly Status[] = transitions.sourcesOf(Status.REJECTED);

/** Whether the saga is still running for an order in this status. */
export function inFlight(status: Status): boolean {
  return IN_FLIGHT.includes(status);
}

/** What a cancellation request does to an order in a status. */
export type CancelDecision =
  /** Move to CANCELLING now (and tell shipping). */
  | { action: "cancel" }
  /** Mark the order; it is cancelled once its payment is decided. */
  | { action: "mark" }
  /** Nothing: already cancelled (or being), or marked before. */
  | { action: "none" }
  /** Refused, with the reason for the customer. */
  | { action: "refuse"; reason: string };

/**
 * What cancelling an order does, from its status and whether a cancellation was asked for
 * already. Only an order that has not been dispatched can be cancelled; asking twice is harmless.
 *
 * @example
 * ```ts
 * decideCancel(Status.APPROVED, false); // { action: "cancel" }
 * decideCancel(Status.SHIPPED, false).action; // "refuse"
 * ```
 */
export function decideCancel(status: Status, requested: boolean): CancelDecision {
  switch (status) {
    case Status.PROCESSING:
    case Status.PENDING:
      return requested ? { action: "none" } : { action: "mark" };
    case Status.APPROVED:
      return { action: "cancel" };
    case Status.CANCELLING:
    case Status.CANCELLED:
      return { action: "none" };
    case Status.SHIPPED:
      return {
        action: "refuse",
        reason: "the order was dispatched and can no longer be cancelled",
      };
    case Status.COMPLETED:
      return {
        action: "refuse",
        reason: "the order was delivered and can no longer be cancelled",
      };
    case Status.REJECTED:
      return { action: "refuse", reason: "the order was rejected: there is nothing to cancel" };
    default:
      return { action: "refuse", reason: `the order cannot be cancelled in status ${status}` };
  }
}

/** Why an order was rejected. */
export type RejectReason = order.RejectReason;
/** The reasons. */
export const RejectReason = order.RejectReason;

/** The rejection event's reason for an order's reject reason (same numbering by design). */
export function eventReason(reason: RejectReason): events.OrderRejectedEvent_Reason {
  return reason as number as events.OrderRejectedEvent_Reason;
}

/**
 * Checks a price quote against the order it prices: same products and quantities, and a total equal
 * to Σ unit price × quantity. A quote that does not add up is a bug upstream, never silently accepted.
 */
export function checkQuote(
  items: Readonly<Record<string, number>>,
  quote: Pick<events.ProductPriceQuoteEvent, "productPricesCents" | "totalPriceCents">,
): string | undefined {
  let total = 0n;
  for (const [id, qty] of Object.entries(items)) {
    const unit = quote.productPricesCents[id];
    if (unit === undefined) return `quote has no price for ${id}`;
    total += unit * BigInt(qty);
  }
  if (Object.keys(quote.productPricesCents).length !== Object.keys(items).length) {
    return "quote prices products the order does not have";
  }
  if (total !== quote.totalPriceCents) {
    return `quote total ${quote.totalPriceCents} is not Σ price × quantity = ${total}`;
  }
  return undefined;
}
