/**
 * The warehouse's rules. Each order has one reservation whose status only moves along the table
 * below: stock is RESERVED for the order (all items) or the reservation FAILED (none), or the order
 * was rejected first and a CANCELLED marker stops any later reservation. Reserved stock is CONSUMED
 * when it physically leaves with the order's shipment (its dispatch), and RETURNED when anything
 * after the reservation fails, the order is rejected or the customer cancels it before dispatch.
 * Consumed stock never comes back by compensation: nothing can undo a dispatch (a cancellation
 * that comes too late loses to it at the shipment).
 * @module
 */
import { warehouse } from "@stocklet/shared/proto";
import { type StatusMachine, statusMachine } from "@stocklet/shared/status_machine";

/** Reservation statuses (the API's enum; the numbers are stored). */
export const ReservationStatus = warehouse.ReservationStatus;
/** A reservation status. */
export type ReservationStatus = warehouse.ReservationStatus;

/** The moves an order's reservation may make. */
export const transitions: StatusMachine<ReservationStatus> = statusMachine<ReservationStatus>({
  [ReservationStatus.RESERVED]: [ReservationStatus.CONSUMED, ReservationStatus.RETURNED],
  [ReservationStatus.CONSUMED]: [],
  [ReservationStatus.RETURNED]: [],
  [ReservationStatus.FAILED]: [],
  [ReservationStatus.CANCELLED]: [],
});

/**
 * The products an order cannot have, given the stock levels: unknown products, products with fewer
 * units than asked, and quantities that are not positive. Sorted; empty when every item can be
 * reserved.
 *
 * @param levels Product id → units in stock (a product the warehouse does not know is absent).
 * @example
 * ```ts
 * shortages({ a: 2, b: 5 }, new Map([["a", 3], ["b", 4]])); // ["b"]
 * ```
 */
export function shortages(
  items: Readonly<Record<string, number>>,
  levels: ReadonlyMap<string, number>,
): string[] {
  return Object.entries(items)
    .filter(([id, quantity]) => !(quantity > 0) || (levels.get(id) ?? 0) < quantity)
    .map(([id]) => id)
    .sort();
}
