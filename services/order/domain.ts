/**
 * The order's rules: its status machine and its price check. The status machine: Orders only move forward: PROCESSING → PENDING → APPROVED, or to
 * REJECTED from either in-flight state. Terminal states never change again, so a late or repeated
 * event cannot move an order back or make it publish twice.
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
  [Status.PENDING]: [Status.APPROVED, Status.REJECTED],
  [Status.APPROVED]: [Status.COMPLETED],
  [Status.REJECTED]: [],
  [Status.COMPLETED]: [],
});

/** The statuses of an order whose saga still runs (it can still be rejected). */
export const IN_FLIGHT: readonly Status[] = transitions.sourcesOf(Status.REJECTED);

/** Whether the saga is still running for an order in this status. */
export function inFlight(status: Status): boolean {
  return IN_FLIGHT.includes(status);
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
