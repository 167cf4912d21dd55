/**
 * Shipping's rules. Each order has one shipment row whose status only moves along the table below:
 * a shipment is ALLOCATED for reserved stock, or FAILED (over the per-shipment limit), or the order
 * was rejected first and a CANCELLED marker stops any later allocation. An allocated shipment is
 * RELEASED when the payment fails or the order is rejected (or, one day, DISPATCHED).
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
  [ShipmentStatus.DISPATCHED]: [],
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
