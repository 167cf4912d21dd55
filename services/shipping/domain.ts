/**
 * Allocation rules. A shipment carries at most a configured number of units; a larger order cannot
 * be allocated, which is the saga's "shipment allocation failed" path.
 * @module
 */

/** Why a reservation cannot be shipped, or undefined when it can. */
export function allocationProblem(
  items: Readonly<Record<string, number>>,
  maxUnits: number,
): string | undefined {
  const units = Object.values(items).reduce((a, b) => a + b, 0);
  if (units === 0) return "nothing to ship";
  if (units > maxUnits) return `${units} units exceed the per-shipment limit of ${maxUnits}`;
  return undefined;
}
