/**
 * Product's saga step against its real database: a new order in, its price quote out.
 */
import assert from "node:assert/strict";
import { uuidv7 } from "@stocklet/shared/ids";
import { events } from "@stocklet/shared/proto";
import { restApp } from "@stocklet/shared/server";
import { only, sagaParticipant } from "@stocklet/testing/saga";
import { testKeys } from "@stocklet/testing/tokens";
import { productReactions } from "./reactions.ts";
import { productRpc } from "./rpc.ts";

const Quote = events.ProductPriceQuoteEvent_Type;

Deno.test("product steps: every new order is priced from the catalogue", async (t) => {
  const p = await sagaParticipant("product", productReactions());
  const keys = await testKeys();
  const app = restApp({ bindings: [productRpc(p.sql)], verifier: keys.verifier });
  const admin = await keys.sign({ sub: uuidv7(), roles: ["admin"] });
  const createProduct = async (priceCents: bigint): Promise<string> => {
    const res = await app.request("/v1/product", {
      method: "POST",
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "Widget", description: "", price_cents: String(priceCents) }),
    });
    const body = await res.text();
    assert.equal(res.status, 200, body);
    return (JSON.parse(body) as { product: { id: string } }).product.id;
  };
  const quote = (orderId: string, items: Record<string, number>) =>
    p.deliver("order.state.created", events.OrderCreatedEventSchema, {
      revision: 1,
      orderId,
      customerId: uuidv7(),
      itemQuantities: items,
    });
  try {
    await t.step("a created product is announced (product.state.created)", async () => {
      const id = await createProduct(1999n);
      const created = only(
        await p.drain(),
        "product.state.created",
        events.ProductCreatedEventSchema,
      );
      assert.deepEqual([created.productId, created.priceCents], [id, 1999n]);
    });

    await t.step("known products: AVAILABLE with unit prices and the exact total", async () => {
      const [a, b] = [await createProduct(1999n), await createProduct(250n)];
      await p.drain();
      const orderId = uuidv7();
      const out = await quote(orderId, { [a]: 3, [b]: 2 });
      const q = only(out, "product.pricequotation", events.ProductPriceQuoteEventSchema);
      assert.equal(out[0]!.key, orderId);
      assert.equal(q.type, Quote.AVAILABLE);
      assert.deepEqual(q.productPricesCents, { [a]: 1999n, [b]: 250n });
      assert.equal(q.totalPriceCents, 3n * 1999n + 2n * 250n);
      assert.deepEqual(q.productQuantities, { [a]: 3, [b]: 2 });

      const again = only(
        await quote(orderId, { [a]: 3, [b]: 2 }),
        "product.pricequotation",
        events.ProductPriceQuoteEventSchema,
      );
      assert.equal(again.totalPriceCents, q.totalPriceCents, "a repeat quotes the same again");
    });

    await t.step("unknown or malformed product ids: UNAVAILABLE, naming each", async () => {
      const known = await createProduct(100n);
      await p.drain();
      const unknown = uuidv7();
      const out = await quote(uuidv7(), { [known]: 1, [unknown]: 1, "not-a-uuid": 1 });
      const q = only(out, "product.pricequotation", events.ProductPriceQuoteEventSchema);
      assert.equal(q.type, Quote.UNAVAILABLE);
      assert.deepEqual(q.unavailableProducts, [unknown, "not-a-uuid"].sort());
      assert.equal(q.totalPriceCents, 0n);
    });
  } finally {
    await p.close();
  }
});
