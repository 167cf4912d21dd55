/**
 * The web front's projection against the real test Postgres (a scratch database migrated by
 * service-init): saga events go through the consumer runtime's batch path into timeline rows, the
 * live hub hears of each order only once its transaction committed, and a replay changes nothing
 * and announces nothing.
 */
import assert from "node:assert/strict";
import { create, type DescMessage, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import postgres from "postgres";
import { type ApplyDeps, applyRound, type Delivery } from "@stocklet/shared/consumer";
// The runtime's batch path itself (not exported by the kit: the runtime is its only caller).
import { connectDb, transaction } from "@stocklet/shared/db";
import { uuidv7 } from "@stocklet/shared/ids";
import { events } from "@stocklet/shared/proto";
import { schemaOf } from "@stocklet/shared/topics";
import { placementOf } from "@stocklet/shared/topology";
import { serviceInit, withDatabase } from "@stocklet/scripts/service_init";
import { testInfra } from "@stocklet/testing/infra";
import { listenHub } from "./live.ts";
import { webReactions } from "./reactions.ts";
import { findCustomers, orderSteps } from "./store.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

function delivery<D extends DescMessage>(
  topic: string,
  init: MessageInitShape<D>,
  at: Date,
): Delivery {
  const schema = schemaOf(topic) as D;
  return {
    topic,
    partition: 0,
    offset: "0",
    key: null,
    value: toBinary(schema, create(schema, init)),
    headers: { id: uuidv7(), type: schema.typeName, created_at: at.toISOString() },
  };
}

Deno.test(
  "web projection: saga events become an order's steps, announced after commit, once",
  opts,
  async () => {
    const infra = await testInfra();
    const database = `web_projection_${crypto.randomUUID().slice(0, 8)}`;
    await serviceInit("web", {
      adminUrl: infra.pgUrl("postgres"),
      connectUrl: infra.connectUrl,
      kafkaBrokers: infra.kafkaBrokers,
      placement: { ...placementOf("web"), database },
    });
    const sql = connectDb(withDatabase(infra.serviceDbUrl("web"), database));
    const hub = await listenHub(sql);
    try {
      const order = uuidv7();
      const product = uuidv7();
      const customer = uuidv7();
      const t0 = Date.now();
      const at = (ms: number) => new Date(t0 + ms);
      const Stock = events.StockReservationEvent_Type;
      // Out of order on purpose: partitions of different topics arrive in any order.
      const batch = [
        delivery("order.state.pending", { orderId: order, totalPriceCents: 500n }, at(20)),
        delivery(
          "order.state.created",
          { orderId: order, itemQuantities: { [product]: 1 } },
          at(0),
        ),
        delivery("product.pricequotation", {
          orderId: order,
          type: events.ProductPriceQuoteEvent_Type.AVAILABLE,
          totalPriceCents: 500n,
        }, at(10)),
        delivery("warehouse.reservation.failed", {
          orderId: order,
          type: Stock.INSUFFICIENT_STOCK,
          insufficientStock: [product],
        }, at(30)),
        delivery("user.state.created", {
          userId: customer,
          email: `grace-${customer}@example.com`,
          firstName: "Grace",
          lastName: "Hopper",
        }, at(0)),
      ];
      let nudges = 0;
      // What a page reads when it hears of its order (the whole batch is one transaction).
      const heard = new Promise<number>((resolve) =>
        hub.watch(order, () => {
          nudges++;
          if (nudges === 1) orderSteps(sql, order).then((s) => resolve(s.length));
        })
      );
      const deps: ApplyDeps = {
        consumer: "web-service",
        reactions: new Map(webReactions().map((r) => [r.topic, r])),
        transaction: (name, fn) => transaction(sql, name, fn),
        deadLetter: () => Promise.reject(new Error("nothing should be dead-lettered")),
        retry: {},
        hooks: {
          stopping: () => false,
          sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
        },
      };
      const outcomes = await applyRound(batch, deps);
      assert.deepEqual(outcomes.map((o) => o.kind), Array(batch.length).fill("applied"));
      assert.equal(await heard, 4, "a page hears of its order once all its steps are readable");

      const steps = await orderSteps(sql, order);
      assert.deepEqual(steps.map((s) => s.step), [
        "order.placed",
        "price.quoted",
        "order.pending",
        "stock.short",
      ], "steps in the order their services committed them");
      assert.equal(steps[3]!.kind, "failure");
      assert.deepEqual(steps[3]!.detail.products, [product]);
      assert.equal(steps[0]!.at.getTime(), t0);
      const found = await findCustomers(sql, `grace-${customer}`);
      assert.deepEqual(found.map((c) => [c.id, c.firstName]), [[customer, "Grace"]]);

      // A replay (Debezium after a crash, or a reset consumer group) changes nothing.
      const before = nudges;
      const again = await applyRound(batch, deps);
      assert.deepEqual(again.map((o) => o.kind), Array(batch.length).fill("duplicate"));
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(nudges, before, "no announcement for a replay");
      assert.equal((await orderSteps(sql, order)).length, 4);
    } finally {
      await hub.stop();
      await sql.end({ timeout: 5 });
      const admin = postgres(infra.pgUrl("postgres"), { max: 1, onnotice: () => {} });
      await admin`drop database if exists ${admin(database)} with (force)`;
      await admin.end();
    }
  },
);
