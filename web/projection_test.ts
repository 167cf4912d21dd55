/**
 * The web front's projection against the real test Postgres (a scratch database migrated by
 * service-init): saga, fulfilment and cancellation events go through the consumer runtime's batch
 * path into timeline rows, the live hub hears of each order only once its transaction committed,
 * and a replay changes nothing and announces nothing.
 */
import assert from "node:assert/strict";
import { create, type DescMessage, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import postgres from "postgres";
import { type ApplyDeps, applyRound, type Delivery } from "@stocklet/shared/consumer";
// The runtime's batch path itself (not exported by the kit: the runtime is its only caller).
import { connectDb, type Sql, transaction } from "@stocklet/shared/db";
import { uuidv7 } from "@stocklet/shared/ids";
import { events } from "@stocklet/shared/proto";
import { schemaOf } from "@stocklet/shared/topics";
import { placementOf } from "@stocklet/shared/topology";
import { serviceInit, withDatabase } from "@stocklet/scripts/service_init";
import { testInfra } from "@stocklet/testing/infra";
import { listenHub, type LiveHub } from "./live.ts";
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

/** The consumer kit's apply path over the web front's reactions, on sql. */
function applyDeps(sql: Sql): ApplyDeps {
  return {
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
}

/** Runs fn against a scratch web database (migrated by service-init) and its live hub. */
async function withProjection(fn: (sql: Sql, hub: LiveHub) => Promise<void>): Promise<void> {
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
    await fn(sql, hub);
  } finally {
    await hub.stop();
    await sql.end({ timeout: 5 });
    const admin = postgres(infra.pgUrl("postgres"), { max: 1, onnotice: () => {} });
    await admin`drop database if exists ${admin(database)} with (force)`;
    await admin.end();
  }
}

Deno.test(
  "web projection: saga events become an order's steps, announced after commit, once",
  opts,
  () =>
    withProjection(async (sql, hub) => {
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
      const deps = applyDeps(sql);
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
    }),
);

Deno.test(
  "web projection: an order's fulfilment and another's cancellation become steps with their details",
  opts,
  () =>
    withProjection(async (sql, hub) => {
      const shipped = uuidv7();
      const cancelled = uuidv7();
      const shipment = uuidv7();
      const released = uuidv7();
      const product = uuidv7();
      const customer = uuidv7();
      const t0 = Date.now();
      const at = (ms: number) => new Date(t0 + ms);
      const announced = new Map<string, number>();
      for (const id of [shipped, cancelled]) {
        hub.watch(id, () => announced.set(id, (announced.get(id) ?? 0) + 1));
      }
      const fulfilment = [
        delivery("shipping.shipment.delivered", {
          orderId: shipped,
          shipmentId: shipment,
          customerId: customer,
          carrier: "DHL Express",
          trackingNumber: "JD0146",
        }, at(20)),
        delivery("order.state.approved", {
          orderId: shipped,
          shippingId: shipment,
          customerId: customer,
          totalPriceCents: 1200n,
        }, at(0)),
        delivery("shipping.shipment.dispatched", {
          orderId: shipped,
          shipmentId: shipment,
          customerId: customer,
          productQuantities: { [product]: 2 },
          carrier: "DHL Express",
          trackingNumber: "JD0146",
        }, at(10)),
      ];
      const cancellation = [
        delivery("order.state.cancelling", {
          orderId: cancelled,
          customerId: customer,
          shipmentId: released,
          totalPriceCents: 2500n,
        }, at(0)),
        delivery("shipping.shipment.cancelled", {
          orderId: cancelled,
          customerId: customer,
          shipmentId: released,
          productQuantities: { [product]: 1 },
        }, at(10)),
        delivery("warehouse.reservation.returned", {
          orderId: cancelled,
          type: events.StockReservationEvent_Type.STOCK_RETURNED,
          reservationStock: { [product]: 1 },
        }, at(20)),
        delivery("payment.transaction.reversed", {
          orderId: cancelled,
          customerId: customer,
          amountCents: 2500n,
        }, at(30)),
        delivery("order.state.cancelled", {
          orderId: cancelled,
          customerId: customer,
          refundedCents: 2500n,
        }, at(40)),
      ];
      const deps = applyDeps(sql);
      const outcomes = await applyRound([...fulfilment, ...cancellation], deps);
      assert.deepEqual(outcomes.map((o) => o.kind), Array(8).fill("applied"));

      const life = await orderSteps(sql, shipped);
      assert.deepEqual(life.map((s) => [s.service, s.step, s.kind, s.status]), [
        ["order", "order.approved", "outcome", "ORDER_STATUS_APPROVED"],
        ["shipping", "shipment.dispatched", "progress", "ORDER_STATUS_SHIPPED"],
        ["shipping", "shipment.delivered", "outcome", "ORDER_STATUS_COMPLETED"],
      ]);
      assert.deepEqual(life[1]!.detail, {
        shipmentId: shipment,
        items: { [product]: 2 },
        carrier: "DHL Express",
        trackingNumber: "JD0146",
      });
      assert.equal(life[2]!.detail.trackingNumber, "JD0146");

      const undone = await orderSteps(sql, cancelled);
      assert.deepEqual(undone.map((s) => [s.service, s.step, s.kind, s.status]), [
        ["order", "order.cancelling", "progress", "ORDER_STATUS_CANCELLING"],
        ["shipping", "shipment.cancelled", "compensation", undefined],
        ["warehouse", "stock.returned", "compensation", undefined],
        ["payment", "payment.refunded", "compensation", undefined],
        ["order", "order.cancelled", "outcome", "ORDER_STATUS_CANCELLED"],
      ]);
      assert.deepEqual(undone[1]!.detail, { shipmentId: released, items: { [product]: 1 } });
      assert.equal(undone[4]!.detail.amountCents, "2500", "the amount refunded");

      // Each order heard of once (one transaction), and a replay adds nothing.
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual([announced.get(shipped), announced.get(cancelled)], [1, 1]);
      const again = await applyRound([...fulfilment, ...cancellation], deps);
      assert.deepEqual(again.map((o) => o.kind), Array(8).fill("duplicate"));
      assert.equal((await orderSteps(sql, cancelled)).length, 5);
    }),
);
