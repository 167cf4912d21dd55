/**
 * Order statuses as people read them. The words come from the contract's `OrderStatus` enum
 * (`ORDER_STATUS_APPROVED` → "Approved"), so a status added to the proto (issue 15's SHIPPED and
 * CANCELLED) is shown in words as soon as the code is regenerated.
 * @module
 */
import { order } from "@stocklet/shared/proto";

const PREFIX = "ORDER_STATUS_";

/** An order status as proto3 JSON names it (`ORDER_STATUS_PENDING`). */
export type StatusName = string;

/** Every status of the contract, in enum order, without UNSPECIFIED. */
export const STATUS_NAMES: readonly StatusName[] = order.OrderStatusSchema.values
  .filter((v) => v.number !== 0)
  .map((v) => v.name);

/**
 * A status in words.
 *
 * @example
 * ```ts
 * statusWord("ORDER_STATUS_APPROVED"); // "Approved"
 * statusWord(order.OrderStatus.PENDING); // "Pending"
 * ```
 */
export function statusWord(status: StatusName | number): string {
  const name = typeof status === "number" ? statusName(status) : status;
  const bare = name.startsWith(PREFIX) ? name.slice(PREFIX.length) : name;
  if (!bare || bare === "UNSPECIFIED") return "Unknown";
  return bare.charAt(0) + bare.slice(1).toLowerCase().replaceAll("_", " ");
}

/** The JSON name of a status number (`2` → `ORDER_STATUS_PENDING`). */
export function statusName(status: number): StatusName {
  return order.OrderStatusSchema.values.find((v) => v.number === status)?.name ??
    `${PREFIX}UNSPECIFIED`;
}

/** The CSS class of a status (`status-approved`). */
export function statusClass(status: StatusName): string {
  return `status-${statusWord(status).toLowerCase().replaceAll(" ", "-")}`;
}

/** Statuses in which the saga (or a later step) may still move the order. */
const SETTLED = new Set(["REJECTED", "CANCELLED", "COMPLETED"].map((s) => PREFIX + s));

/** Whether nothing will change the order any more. */
export function isFinal(status: StatusName): boolean {
  return SETTLED.has(status);
}

/**
 * How far along an order is, so that a page fed by events from several services never shows it
 * going back (a late `order.state.created` after PENDING changes nothing). Failures end it.
 */
export function statusRank(status: StatusName): number {
  switch (status) {
    case `${PREFIX}PROCESSING`:
      return 1;
    case `${PREFIX}PENDING`:
      return 2;
    case `${PREFIX}APPROVED`:
      return 3;
    case `${PREFIX}SHIPPED`:
      return 4;
    case `${PREFIX}COMPLETED`:
      return 5;
    case `${PREFIX}REJECTED`:
    case `${PREFIX}CANCELLED`:
      return 9;
    default:
      return 0;
  }
}

/** The later of two statuses by {@linkcode statusRank}. */
export function laterStatus(a: StatusName, b: StatusName): StatusName {
  return statusRank(b) > statusRank(a) ? b : a;
}

/**
 * Statuses in which the customer may still cancel (issue 15: before dispatch). The order service
 * decides; the page only offers the button.
 */
export function cancellable(status: StatusName): boolean {
  return [`${PREFIX}PROCESSING`, `${PREFIX}PENDING`, `${PREFIX}APPROVED`].includes(status);
}

/** Why an order was rejected, in words (from `REJECT_REASON_*` or the event's `REASON_*`). */
export function rejectReasonWords(reason: string): string {
  const bare = reason.replace(/^REJECT_REASON_|^REASON_/, "");
  switch (bare) {
    case "PRODUCT_UNAVAILABLE":
      return "a product is no longer sold";
    case "INSUFFICIENT_STOCK":
      return "not enough stock";
    case "SHIPMENT_FAILED":
      return "no shipment could be allocated";
    case "PAYMENT_FAILED":
      return "the payment failed";
    case "TIMEOUT":
      return "the order took too long (a service did not answer in time)";
    default:
      return "unknown";
  }
}
