/**
 * Shipping's rules. Each order has one shipment row whose status only moves along the table below:
 * a shipment is ALLOCATED for reserved stock, or FAILED (over the per-shipment limit), or the order
 * was rejected first and a CANCELLED marker stops any later allocation. An allocated shipment is
 * RELEASED when the payment fails, the order is rejected or the customer cancels it; once its
 * order is approved it may be DISPATCHED with a carrier, and then DELIVERED.
 *
 * The shipment row is where a cancellation and a dispatch meet: whichever locks it first moves
 * it (ALLOCATED → RELEASED, or ALLOCATED → DISPATCHED) and the other finds it moved. Exactly one
 * wins, decided here and nowhere else.
 * @module
 */
import { shipping } from "@stocklet/shared/proto";
import { type StatusMachine, statusMachine } from "@stocklet/shared/status_machine";

/** Shipment statuses (the API's enum; the numbers are stored). */
export const ShipmentStatus = shipping.ShipmentStatus;
/** A shipment status. */
export type ShipmentStatus = shipping.ShipmentStatus;

/** The moves an order's shipment may make. */
export const transitions: StatusMachine<ShipmentStatus> = statusMachine<ShipmentStatus>({
  [ShipmentStatus.ALLOCATED]: [ShipmentStatus.RELEASED, ShipmentStatus.DISPATCHED],
  [ShipmentStatus.RELEASED]: [],
  [ShipmentStatus.DISPATCHED]: [ShipmentStatus.DELIVERED],
  [ShipmentStatus.DELIVERED]: [],
  [ShipmentStatus.FAILED]: [],
  [ShipmentStatus.CANCELLED]: [],
});

/**
 * Why a reservation cannot be shipped, or undefined when it can: a shipment carries at most
 * `maxUnits` units, and a larger order is the saga's "allocation failed" path.
 *
 * @example
 * ```ts
 * allocationProblem({ a: 60, b: 41 }, 100); // "101 units exceed the per-shipment limit of 100"
 * ```
 */
export function allocationProblem(
  items: Readonly<Record<string, number>>,
  maxUnits: number,
): string | undefined {
  const units = Object.values(items).reduce((a, b) => a + b, 0);
  if (units === 0) return "nothing to ship";
  if (units > maxUnits) return `${units} units exceed the per-shipment limit of ${maxUnits}`;
  return undefined;
}

/** A shipment as the dispatch and delivery rules see it. */
export interface ShipmentState {
  status: ShipmentStatus;
  /** Whether its order was approved (paid). */
  ready: boolean;
  carrier: string | null;
  trackingNumber: string | null;
}

/** What a dispatch or delivery request does: move the shipment, nothing (a repeat), or refuse. */
export type FulfilmentDecision =
  | { action: "move" }
  | { action: "none" }
  /** `soon`: the refusal lifts by itself in a moment (the approval is on its way). */
  | { action: "refuse"; reason: string; soon?: boolean };

function whyNot(s: ShipmentState): string {
  switch (s.status) {
    case ShipmentStatus.RELEASED:
      return "the shipment was released: its order was cancelled or failed";
    case ShipmentStatus.FAILED:
      return "the shipment could not be allocated: there is nothing to ship";
    case ShipmentStatus.CANCELLED:
      return "the order was rejected before a shipment was allocated";
    case ShipmentStatus.DELIVERED:
      return "the shipment was delivered already";
    default:
      return "the shipment is not dispatched yet";
  }
}

/**
 * Whether a shipment may be dispatched with these details: an allocated shipment of an approved
 * order is; the same dispatch again is a harmless repeat; anything else is refused with a reason.
 *
 * @example
 * ```ts
 * decideDispatch({ status: ALLOCATED, ready: true, carrier: null, trackingNumber: null }, "DHL", "1Z");
 * // { action: "move" }
 * ```
 */
export function decideDispatch(
  s: ShipmentState,
  carrier: string,
  trackingNumber: string,
): FulfilmentDecision {
  if (s.status === ShipmentStatus.ALLOCATED) {
    // Shipping hears of the approval from `order.state.approved`, a moment after the order shows
    // APPROVED: a dispatch in between is refused, and can be retried at once.
    return s.ready ? { action: "move" } : {
      action: "refuse",
      reason: "the order is not approved yet (its payment is pending); retry in a moment",
      soon: true,
    };
  }
  if (s.status === ShipmentStatus.DISPATCHED || s.status === ShipmentStatus.DELIVERED) {
    return s.carrier === carrier && s.trackingNumber === trackingNumber ? { action: "none" } : {
      action: "refuse",
      reason: `the shipment was dispatched already (${s.carrier}, tracking ${s.trackingNumber})`,
    };
  }
  return { action: "refuse", reason: whyNot(s) };
}

/** Whether a shipment may be marked delivered: a dispatched one is; a delivered one is a repeat. */
export function decideDelivery(s: ShipmentState): FulfilmentDecision {
  if (s.status === ShipmentStatus.DISPATCHED) return { action: "move" };
  if (s.status === ShipmentStatus.DELIVERED) return { action: "none" };
  return { action: "refuse", reason: whyNot(s) };
}
