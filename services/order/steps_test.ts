/**
 * The order's saga steps against its real database: an order placed through its API, then every
 * event that moves it, in and out, with its status checked in SQL. Every rejection path, every
 * duplicate, late events on a terminal order, and the saga timeout.
 */
import assert from "node:assert/strict";
import { connectDb } from "@stocklet/shared/db";
import { uuidv7 } from "@stocklet/shared/ids";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { events, order } from "@stocklet/shared/proto";
import { restApp } from "@stocklet/shared/server";
import { only, type SagaParticipant, sagaParticipant } from "@stocklet/testing/saga";
import { testKeys } from "@stocklet/testing/tokens";
import { orderReactions } from "./reactions.ts";
import { orderRpc } from "./rpc.ts";
import { learnPrice } from "./steps.ts";
import { sweepOnce } from "./sweeper.ts";

const Status = order.OrderStatus;
const Reason = events.OrderRejectedEvent_Reason;
const Quote = events.ProductPriceQuoteEvent_Type;
const Payment = events.PaymentProcessedEvent_Type;

/** Places an order through the order service's REST API; the order as it answered. */
async function placeThrough(
  app: { request(path: string, init: RequestInit): Response | Promise<Response> },
  token: string,
  cart: Record<string, number>,
): Promise<{ id: string; status: string; totalPriceCents?: string }> {
  const res = await app.request("/v1/order/place", {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(cart),
  });
  const body = await res.text();
  assert.equal(res.status, 200, body);
  return (JSON.parse(body) as { order: { id: string; status: string; totalPriceCents?: string } })
    .order;
}

async function statusOf(p: SagaParticipant, orderId: string): Promise<order.OrderStatus> {
  const [row] = await p.sql<Array<{ status: order.OrderStatus }>>`
    select status from orders where id = ${orderId}`;
  return row!.status;
}

Deno.test("order steps: pricing, approval, every rejection, duplicates and the timeout", async (t) => {
  const p = await sagaParticipant("order", orderReactions());
  const keys = await testKeys();
  const app = restApp({ bindings: [orderRpc(p.sql)], verifier: keys.verifier });
  const customerId = uuidv7();
  const token = await keys.sign({ sub: customerId });
  const [a, b] = [uuidv7(), uuidv7()];
  const prices = { [a]: 150n, [b]: 99n };
  const cart = { [a]: 2, [b]: 1 };
  const total = 2n * 150n + 99n;

  /** Places an order through the API and drains its `order.state.created`. */
  const place = async (): Promise<string> => {
    const { id } = await placeThrough(app, token, cart);
    only(await p.drain(), "order.state.created", events.OrderCreatedEventSchema);
    return id;
  };
  type QuoteInit = MessageInitShape<typeof events.ProductPriceQuoteEventSchema>;
  const priced = (orderId: string, over: QuoteInit = {}) =>
    p.deliver("product.pricequotation", events.ProductPriceQuoteEventSchema, {
      revision: 1,
      type: Quote.AVAILABLE,
      orderId,
      productQuantities: cart,
      productPricesCents: prices,
      totalPriceCents: total,
      ...over,
    });
  const paid = (orderId: string, type: events.PaymentProcessedEvent_Type, shipmentId = uuidv7()) =>
    p.deliver("payment.processing", events.PaymentProcessedEventSchema, {
      revision: 1,
      type,
      orderId,
      customerId,
      amountCents: total,
      shipmentId,
      ...(type === Payment.SUCCESS ? { transactionId: uuidv7() } : {}),
    });
  const rejection = (out: Awaited<ReturnType<typeof priced>>) =>
    only(out, "order.state.rejected", events.OrderRejectedEventSchema);

  try {
    await t.step("placing an order publishes order.state.created", async () => {
      const res = await app.request("/v1/order/place", {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify(cart),
      });
      const { order: placed } = JSON.parse(await res.text()) as { order: { id: string } };
      const out = await p.drain();
      const created = only(out, "order.state.created", events.OrderCreatedEventSchema);
      assert.deepEqual(
        [created.orderId, created.customerId, created.itemQuantities],
        [placed.id, customerId, cart],
      );
      assert.equal(out[0]!.key, placed.id);
      assert.equal(await statusOf(p, placed.id), Status.PROCESSING);
    });

    await t.step("an AVAILABLE quote prices the order: PENDING, once", async () => {
      const id = await place();
      const out = await priced(id);
      const pending = only(out, "order.state.pending", events.OrderPendingEventSchema);
      assert.deepEqual(
        [pending.itemQuantities, pending.itemsPriceCents, pending.totalPriceCents],
        [cart, total, total],
      );
      assert.equal(await statusOf(p, id), Status.PENDING);
      const [unit] = await p.sql<Array<{ unit_price_cents: bigint }>>`
        select unit_price_cents from order_items where order_id = ${id} and product_id = ${a}`;
      assert.equal(unit!.unit_price_cents, 150n);
      assert.deepEqual(await priced(id), [], "a repeated quote moves nothing");
    });

    for (
      const [name, quote] of [
        ["an UNAVAILABLE quote", { type: Quote.UNAVAILABLE, unavailableProducts: [b] }],
        ["a quote that does not add up", { totalPriceCents: total + 1n }],
        ["a quote for other products", { productPricesCents: { [a]: 150n } }],
      ] satisfies Array<[string, QuoteInit]>
    ) {
      await t.step(`${name} rejects the order (PRODUCT_UNAVAILABLE), once`, async () => {
        const id = await place();
        const r = rejection(await priced(id, quote));
        assert.deepEqual([r.orderId, r.customerId, r.reason], [
          id,
          customerId,
          Reason.PRODUCT_UNAVAILABLE,
        ]);
        assert.equal(await statusOf(p, id), Status.REJECTED);
        assert.deepEqual(await priced(id, quote), []);
        assert.deepEqual(await priced(id), [], "nor does a good quote revive it");
      });
    }

    await t.step("a failed reservation rejects the order (INSUFFICIENT_STOCK)", async () => {
      const id = await place();
      await priced(id);
      const failed = () =>
        p.deliver("warehouse.reservation.failed", events.StockReservationEventSchema, {
          revision: 1,
          type: events.StockReservationEvent_Type.INSUFFICIENT_STOCK,
          orderId: id,
          insufficientStock: [a],
        });
      assert.equal(rejection(await failed()).reason, Reason.INSUFFICIENT_STOCK);
      assert.deepEqual(await failed(), []);
    });

    await t.step(
      "a failed allocation rejects the order (SHIPMENT_FAILED, with the shipment)",
      async () => {
        const id = await place();
        await priced(id);
        const shipmentId = uuidv7();
        const failed = () =>
          p.deliver("shipping.shipment.allocation.failed", events.ShipmentAllocationEventSchema, {
            revision: 1,
            type: events.ShipmentAllocationEvent_Type.FAILED,
            orderId: id,
            shipmentId,
          });
        const r = rejection(await failed());
        assert.deepEqual([r.reason, r.shippingId], [Reason.SHIPMENT_FAILED, shipmentId]);
        assert.deepEqual(await failed(), []);
      },
    );

    await t.step("a successful payment approves the order, once", async () => {
      const id = await place();
      await priced(id);
      const shipmentId = uuidv7();
      const out = await paid(id, Payment.SUCCESS, shipmentId);
      const approved = only(out, "order.state.approved", events.OrderApprovedEventSchema);
      assert.deepEqual(
        [approved.customerId, approved.shippingId, approved.totalPriceCents],
        [customerId, shipmentId, total],
      );
      assert.ok(approved.transactionId);
      assert.equal(await statusOf(p, id), Status.APPROVED);
      assert.deepEqual(await paid(id, Payment.SUCCESS), [], "a repeat approves nothing");
      assert.deepEqual(await paid(id, Payment.FAILED), [], "a late failure rejects nothing");
      assert.equal(await statusOf(p, id), Status.APPROVED);
    });

    await t.step("a failed payment rejects the order (PAYMENT_FAILED), once", async () => {
      const id = await place();
      await priced(id);
      assert.equal(rejection(await paid(id, Payment.FAILED)).reason, Reason.PAYMENT_FAILED);
      assert.deepEqual(await paid(id, Payment.FAILED), []);
      assert.deepEqual(await paid(id, Payment.SUCCESS), [], "a late success approves nothing");
      assert.equal(await statusOf(p, id), Status.REJECTED);
    });

    await t.step("a payment before pricing moves nothing", async () => {
      const id = await place();
      assert.deepEqual(await paid(id, Payment.SUCCESS), []);
      assert.equal(await statusOf(p, id), Status.PROCESSING);
    });

    await t.step("the sweeper rejects stalled sagas (TIMEOUT) and nothing else", async () => {
      const [stalled, stalledPending, done] = [await place(), await place(), await place()];
      await priced(stalledPending);
      await priced(done);
      await paid(done, Payment.SUCCESS);
      await p.drain();
      const fresh = await place();
      await p.sql`
        update orders set created_at = now() - interval '1 hour'
        where id in ${p.sql([stalled, stalledPending, done])}`;
      assert.equal(await sweepOnce(p.sql, { timeoutMs: 30 * 60_000, intervalMs: 1000 }), 2);
      const out = await p.drain();
      assert.deepEqual(
        out.map((e) => [e.topic, (e.event as events.OrderRejectedEvent).orderId]).sort(),
        [["order.state.rejected", stalled], ["order.state.rejected", stalledPending]].sort(),
      );
      for (const e of out) {
        assert.equal((e.event as events.OrderRejectedEvent).reason, Reason.TIMEOUT);
      }
      assert.equal(await statusOf(p, done), Status.APPROVED);
      assert.equal(await statusOf(p, fresh), Status.PROCESSING);
      assert.equal(await sweepOnce(p.sql, { timeoutMs: 30 * 60_000, intervalMs: 1000 }), 0);
    });

    await t.step("two replicas' sweepers at once reject each stalled saga once", async () => {
      const stalled: string[] = [];
      for (let i = 0; i < 20; i++) stalled.push(await place());
      await p.sql`
        update orders set created_at = now() - interval '1 hour' where id in ${p.sql(stalled)}`;
      // A second replica: its own pool, so its own connections and locks.
      const other = connectDb(p.db.url, { max: 3 });
      try {
        const sweep = { timeoutMs: 30 * 60_000, intervalMs: 1000, batch: 3 };
        const [a, b] = await Promise.all([sweepOnce(p.sql, sweep), sweepOnce(other, sweep)]);
        assert.equal(a + b, stalled.length, `each stalled order once (${a} + ${b})`);
      } finally {
        await other.end({ timeout: 5 });
      }
      const ids = (await p.drain()).map((e) => (e.event as events.OrderRejectedEvent).orderId);
      assert.deepEqual(ids.sort(), [...stalled].sort(), "one order.state.rejected per order");
      for (const id of stalled) assert.equal(await statusOf(p, id), Status.REJECTED);
    });
  } finally {
    await p.close();
  }
});

Deno.test("order steps: an order of products whose prices it knows is priced as it is placed", async (t) => {
  const p = await sagaParticipant("order", orderReactions());
  const keys = await testKeys();
  const app = restApp({ bindings: [orderRpc(p.sql)], verifier: keys.verifier });
  const token = await keys.sign({ sub: uuidv7() });
  const [a, b, gone] = [uuidv7(), uuidv7(), uuidv7()];
  const place = (cart: Record<string, number>) => placeThrough(app, token, cart);
  const created = (productId: string, priceCents: bigint) =>
    p.deliver("product.state.created", events.ProductCreatedEventSchema, {
      revision: 1,
      productId,
      name: "x",
      priceCents,
    });

  try {
    await t.step("the catalogue's events publish nothing", async () => {
      assert.deepEqual(await created(a, 150n), []);
      assert.deepEqual(await created(b, 99n), []);
      assert.deepEqual(await created(gone, 5n), []);
    });

    await t.step("known prices: PENDING at once, order.state.pending, no quote asked", async () => {
      const o = await place({ [a]: 2, [b]: 1 });
      assert.equal(o.status, "ORDER_STATUS_PENDING");
      assert.equal(o.totalPriceCents, "399");
      const pending = only(await p.drain(), "order.state.pending", events.OrderPendingEventSchema);
      assert.equal(pending.orderId, o.id);
      assert.equal(pending.totalPriceCents, 399n);
      assert.equal(pending.itemsPriceCents, 399n);
      const items = await p.sql<Array<{ product_id: string; unit_price_cents: bigint }>>`
        select product_id, unit_price_cents from order_items where order_id = ${o.id}`;
      assert.deepEqual(
        Object.fromEntries(items.map((i) => [i.product_id, i.unit_price_cents])),
        { [a]: 150n, [b]: 99n },
      );
      assert.equal(await statusOf(p, o.id), Status.PENDING);
    });

    await t.step(
      "a price change is used from then on; an older event never overwrites it",
      async () => {
        const older = uuidv7();
        assert.deepEqual(
          await p.deliver("product.attr.price", events.ProductPriceUpdatedEventSchema, {
            revision: 1,
            productId: a,
            priceCents: 200n,
          }),
          [],
        );
        // A late event (an id older than the one applied) about the same product.
        await p.holdTx("late", (tx) => learnPrice(tx, a, 1n, { ...meta, id: older })).commit();
        const o = await place({ [a]: 1 });
        assert.equal(o.totalPriceCents, "200");
        only(await p.drain(), "order.state.pending", events.OrderPendingEventSchema);
      },
    );

    await t.step(
      "an unknown or deleted product: PROCESSING, the product service quotes",
      async () => {
        assert.deepEqual(
          await p.deliver("product.state.deleted", events.ProductDeletedEventSchema, {
            revision: 1,
            productId: gone,
          }),
          [],
        );
        // A "created" older than the deletion does not bring it back.
        await p.holdTx(
          "late",
          (tx) => learnPrice(tx, gone, 5n, { ...meta, id: "00000000-0001-7000-8000-000000000000" }),
        )
          .commit();
        for (const cart of [{ [gone]: 1 }, { [a]: 1, [uuidv7()]: 1 }]) {
          const o = await place(cart);
          assert.equal(o.status, "ORDER_STATUS_PROCESSING");
          const e = only(await p.drain(), "order.state.created", events.OrderCreatedEventSchema);
          assert.deepEqual(e.itemQuantities, cart);
        }
      },
    );
  } finally {
    await p.close();
  }
});

const meta = { topic: "", key: "", partition: 0, offset: "0", type: "" };
