/**
 * Pricing a cart: one rule for whoever prices an order. The product service prices an order from
 * its catalogue when asked by `order.state.created`; the order service prices it at the door from
 * its copy of the catalogue's prices, so that the usual order needs no round trip through the
 * product service (see services/order/steps.ts). Pure: money is integer cents.
 * @module
 */

/** A cart priced: each product's unit price and the exact total. */
export interface Priced {
  kind: "priced";
  /** Product id → unit price in cents. */
  unitCents: Record<string, bigint>;
  /** Σ unit price × quantity, in cents. */
  totalCents: bigint;
}

/** A cart that cannot be priced: the products without a price, sorted. */
export interface Unpriced {
  kind: "unpriced";
  missing: string[];
}

/**
 * Prices every item of a cart (product id → quantity) at the given unit prices.
 *
 * @example
 * ```ts
 * priceItems({ a: 2, b: 1 }, new Map([["a", 250n], ["b", 99n]]));
 * // { kind: "priced", unitCents: { a: 250n, b: 99n }, totalCents: 599n }
 * ```
 */
export function priceItems(
  quantities: Readonly<Record<string, number>>,
  unitPrices: ReadonlyMap<string, bigint>,
): Priced | Unpriced {
  const missing = Object.keys(quantities).filter((id) => !unitPrices.has(id)).sort();
  if (missing.length) return { kind: "unpriced", missing };
  const unitCents: Record<string, bigint> = {};
  let totalCents = 0n;
  for (const [id, qty] of Object.entries(quantities)) {
    const unit = unitPrices.get(id)!;
    unitCents[id] = unit;
    totalCents += unit * BigInt(qty);
  }
  return { kind: "priced", unitCents, totalCents };
}
