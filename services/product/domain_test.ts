import assert from "node:assert/strict";
import { events } from "@stocklet/shared/proto";
import { quoteOrder } from "./domain.ts";

const A = "0190d6a4-7b1c-7cc3-9a4e-3f1b2c3d4e5a";
const B = "0190d6a4-7b1c-7cc3-9a4e-3f1b2c3d4e5b";

Deno.test("quoteOrder() totals unit price × quantity exactly, in cents", () => {
  const q = quoteOrder("o-1", { [A]: 3, [B]: 1 }, new Map([[A, 1999n], [B, 9007199254740993n]]));
  assert.equal(q.type, events.ProductPriceQuoteEvent_Type.AVAILABLE);
  assert.equal(q.totalPriceCents, 3n * 1999n + 9007199254740993n);
  assert.deepEqual(q.productPricesCents, { [A]: 1999n, [B]: 9007199254740993n });
  assert.deepEqual(q.productQuantities, { [A]: 3, [B]: 1 });
});

Deno.test("quoteOrder() is UNAVAILABLE and names every unknown product", () => {
  const q = quoteOrder("o-1", { [B]: 1, [A]: 2 }, new Map());
  assert.equal(q.type, events.ProductPriceQuoteEvent_Type.UNAVAILABLE);
  assert.deepEqual(q.unavailableProducts, [A, B]);
  assert.equal(q.totalPriceCents, 0n);
});
