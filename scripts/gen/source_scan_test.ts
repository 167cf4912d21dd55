import assert from "node:assert/strict";
import { join } from "node:path";
import {
  blankComments,
  callArguments,
  dynamicEnvReadsOf,
  envReadsOf,
  localModulesOf,
  publicationsOf,
  ScanError,
  stringLiteral,
  subscriptionsOf,
} from "./source_scan.ts";

Deno.test("callArguments() splits at top-level commas only", () => {
  const src = 'f("a, b", g(1, 2), { x: [3, 4], y: `t ${h(5, 6)}` }, (e) => e.k === ")")';
  assert.deepEqual(callArguments(src, 1), [
    '"a, b"',
    "g(1, 2)",
    "{ x: [3, 4], y: `t ${h(5, 6)}` }",
    '(e) => e.k === ")"',
  ]);
  assert.deepEqual(callArguments("f()", 1), []);
  assert.deepEqual(callArguments("f(a, /* b, c */ d,\n)", 1), ["a", "/* b, c */ d"]);
});

Deno.test("blankComments() keeps strings and offsets", () => {
  const src = 'a // b\nc /* d */ "e // f" `g /* h */`';
  const out = blankComments(src);
  assert.equal(out.length, src.length);
  assert.equal(out, 'a     \nc         "e // f" `g /* h */`');
});

Deno.test("stringLiteral() reads plain literals only", () => {
  assert.equal(stringLiteral('"order.state.created"'), "order.state.created");
  assert.equal(stringLiteral("'x'"), "x");
  assert.equal(stringLiteral("TOPIC"), undefined);
  assert.equal(stringLiteral("`t`"), undefined);
});

async function withTree(files: Record<string, string>, fn: (root: string) => Promise<void>) {
  const root = await Deno.makeTempDir({ prefix: "stocklet-scan-" });
  try {
    for (const [path, text] of Object.entries(files)) {
      await Deno.mkdir(join(root, path, ".."), { recursive: true });
      await Deno.writeTextFile(join(root, path), text);
    }
    await fn(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("subscriptionsOf() reads topic, message, filter and calls; skips tests and comments", async () => {
  await withTree({
    "services/order/reactions.ts": `
      const Quote = events.ProductPriceQuoteEvent_Type;
      // on("commented.out", events.XSchema, …) does not count
      export const r = [
        on("product.pricequotation", events.ProductPriceQuoteEventSchema, async (e, tx) => {
          if (e.type === Quote.AVAILABLE) await priceOrder(tx, e);
          else await rejectOrder(tx, e.orderId);
        }, { filter: (e) => e.type === Quote.AVAILABLE ||
          e.type === Quote.UNAVAILABLE }),
        consumer.on("crash", () => {}),
      ];`,
    "services/order/reactions_test.ts": 'on("test.only", events.XSchema, () => {});',
    "services/product/reactions.ts":
      'on("order.state.created", OrderCreatedEventSchema, (e, tx) => quote(tx, e));',
  }, async (root) => {
    const subs = await subscriptionsOf(root);
    // In the topology's service order (auth, order, payment, product, …).
    assert.deepEqual(subs.map((s) => [s.service, s.topic, s.message]), [
      ["order", "product.pricequotation", "ProductPriceQuoteEvent"],
      ["product", "order.state.created", "OrderCreatedEvent"],
    ]);
    const order = subs.find((s) => s.service === "order")!;
    assert.equal(order.filter, "e.type === Quote.AVAILABLE || e.type === Quote.UNAVAILABLE");
    assert.deepEqual(order.calls, ["priceOrder", "rejectOrder"]);
    assert.equal(order.aliases.Quote, "ProductPriceQuoteEvent_Type");
    assert.equal(order.file, "services/order/reactions.ts");
  });
});

Deno.test("subscriptionsOf() and publicationsOf() refuse a topic they cannot read", async () => {
  await withTree({
    "services/order/reactions.ts": "on(TOPIC, events.OrderCreatedEventSchema, () => {});",
  }, async (root) => {
    await assert.rejects(subscriptionsOf(root), ScanError);
  });
  await withTree({
    "services/order/saga.ts": "tx.publish(topicOf(o), o.id, events.OrderCreatedEventSchema, {});",
  }, async (root) => {
    await assert.rejects(publicationsOf(root), /must be a string literal/);
  });
});

Deno.test("publicationsOf() reads topic, key and message", async () => {
  await withTree({
    "services/order/saga.ts":
      'tx.publish("order.state.created", o.id, events.OrderCreatedEventSchema, { revision: 1 });',
  }, async (root) => {
    assert.deepEqual(await publicationsOf(root), [{
      service: "order",
      topic: "order.state.created",
      key: "o.id",
      message: "OrderCreatedEvent",
      file: "services/order/saga.ts",
    }]);
  });
});

Deno.test("envReadsOf() finds Deno.env, the config helpers and Var names, not comments", async () => {
  await withTree({
    "a.ts": `
      // int("IN_A_COMMENT")
      /** str("IN_JSDOC") */
      const x = Deno.env.get("PLAIN");
      const c = { port: port("HTTP_PORT", { default: 1 }), ok: bool("FLAG"), l: list("LIST") };
      const v: Var<string> = { name: "HAND_WRITTEN", parse: (raw) => raw };
      const local = port("lowercase", 1);
      const y = Deno.env.get(name);
    `,
  }, async (root) => {
    const reads = await envReadsOf([join(root, "a.ts")], root);
    assert.deepEqual([...reads.keys()], ["FLAG", "HAND_WRITTEN", "HTTP_PORT", "LIST", "PLAIN"]);
    assert.deepEqual(reads.get("PLAIN"), ["a.ts"]);
    assert.deepEqual(await dynamicEnvReadsOf([join(root, "a.ts")], root), [
      "a.ts: Deno.env.get(name)",
    ]);
  });
});

Deno.test("localModulesOf() follows a service's imports into shared/", async () => {
  const files = await localModulesOf("services/order/main.ts");
  assert.ok(files.some((f) => f.endsWith("/services/order/reactions.ts")));
  assert.ok(files.some((f) => f.endsWith("/shared/service.ts")));
  assert.ok(!files.some((f) => f.includes("/shared/gen/")));
});
