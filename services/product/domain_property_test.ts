/**
 * Properties of pricing (fast-check): for any cart the validation rules allow (up to 100 products,
 * 1–10,000 of each, unit prices up to 1,000,000,000.00), a quote's total is exactly Σ unit price ×
 * quantity in integer cents, whatever the order of the cart, and always fits Postgres' bigint.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { events } from "@stocklet/shared/proto";
import { quoteOrder } from "./domain.ts";

const INT64_MAX = 2n ** 63n - 1n;
/** The largest unit price CreateProductRequest accepts (cents). */
const MAX_PRICE = 100_000_000_000n;

const cart = fc.uniqueArray(
  fc.record({
    id: fc.uuid(),
    qty: fc.integer({ min: 1, max: 10_000 }),
    price: fc.bigInt({ min: 0n, max: MAX_PRICE }),
  }),
  { minLength: 1, maxLength: 100, selector: (l) => l.id },
);

Deno.test("quoteOrder() totals any allowed cart exactly, in any order, within int64", () => {
  fc.assert(
    fc.property(cart, fc.nat(), (lines, rotation) => {
      const quantities = Object.fromEntries(lines.map((l) => [l.id, l.qty]));
      const prices = new Map(lines.map((l) => [l.id, l.price]));
      const q = quoteOrder("o", quantities, prices);
      assert.equal(q.type, events.ProductPriceQuoteEvent_Type.AVAILABLE);
      // The reference: a plain sum, independent of the implementation's loop.
      const expected = lines.map((l) => l.price * BigInt(l.qty)).reduce((a, b) => a + b, 0n);
      assert.equal(q.totalPriceCents, expected);
      assert.ok(q.totalPriceCents >= 0n && q.totalPriceCents <= INT64_MAX);
      for (const l of lines) assert.equal(q.productPricesCents[l.id], l.price);
      // The same cart listed in another order costs the same.
      const k = rotation % lines.length;
      const rotated = Object.fromEntries([...lines.slice(k), ...lines.slice(0, k)].map((l) => [
        l.id,
        l.qty,
      ]));
      assert.equal(quoteOrder("o", rotated, prices).totalPriceCents, expected);
    }),
    { seed: 13, numRuns: 300 },
  );
});

Deno.test("quoteOrder() adding one more unit adds exactly its unit price", () => {
  fc.assert(
    fc.property(cart, (lines) => {
      const prices = new Map(lines.map((l) => [l.id, l.price]));
      const base = Object.fromEntries(lines.map((l) => [l.id, l.qty]));
      const first = lines[0]!;
      const more = { ...base, [first.id]: first.qty + 1 };
      const diff = quoteOrder("o", more, prices).totalPriceCents -
        quoteOrder("o", base, prices).totalPriceCents;
      assert.equal(diff, first.price);
    }),
    { seed: 13, numRuns: 200 },
  );
});

Deno.test("quoteOrder() with any unknown product is UNAVAILABLE, naming exactly those, total 0", () => {
  fc.assert(
    fc.property(
      cart,
      fc.array(fc.boolean(), { minLength: 100, maxLength: 100 }),
      (lines, known) => {
        fc.pre(known.slice(0, lines.length).some((k) => !k));
        const quantities = Object.fromEntries(lines.map((l) => [l.id, l.qty]));
        const prices = new Map(lines.filter((_, i) => known[i]).map((l) => [l.id, l.price]));
        const q = quoteOrder("o", quantities, prices);
        assert.equal(q.type, events.ProductPriceQuoteEvent_Type.UNAVAILABLE);
        assert.deepEqual(
          q.unavailableProducts,
          lines.filter((_, i) => !known[i]).map((l) => l.id).sort(),
        );
        assert.equal(q.totalPriceCents, 0n);
      },
    ),
    { seed: 13, numRuns: 200 },
  );
});
