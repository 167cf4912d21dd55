import assert from "node:assert/strict";
import { priceItems } from "./pricing.ts";

Deno.test("priceItems: unit prices and the exact total in cents", () => {
  assert.deepEqual(priceItems({ a: 3, b: 1 }, new Map([["a", 1999n], ["b", 1n], ["c", 5n]])), {
    kind: "priced",
    unitCents: { a: 1999n, b: 1n },
    totalCents: 5998n,
  });
});

Deno.test("priceItems: names every product without a price, sorted", () => {
  assert.deepEqual(priceItems({ z: 1, a: 2, k: 1 }, new Map([["k", 10n]])), {
    kind: "unpriced",
    missing: ["a", "z"],
  });
});

Deno.test("priceItems: totals beyond 2^53 cents stay exact", () => {
  const r = priceItems({ a: 1000 }, new Map([["a", 9_007_199_254_740_993n]]));
  assert.deepEqual(r.kind === "priced" ? r.totalCents : 0n, 9_007_199_254_740_993_000n);
});
