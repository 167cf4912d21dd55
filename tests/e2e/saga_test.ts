/**
 * The place-order saga end to end through the public REST API, against the real stack (Postgres,
 * Kafka, Debezium and the seven services): the happy path and every compensation path, each
 * asserting the final order, stock, balance, shipment and transactions.
 */
import assert from "node:assert/strict";
import { api, type Customer } from "@stocklet/testing/stack";
import { TEST_SETTINGS } from "@stocklet/scripts/stack";

const opts = { sanitizeOps: false, sanitizeResources: false };

async function buyer(credit: bigint): Promise<Customer> {
  const a = await api();
  const c = await a.customer();
  if (credit > 0n) await a.credit(c.id, credit);
  return c;
}

Deno.test(
  "saga: a paid order is APPROVED, stock consumed, balance debited exactly once",
  opts,
  async () => {
    const a = await api();
    const p = await a.product(1250, 10);
    const q = await a.product(199, 5);
    const c = await buyer(10_000n);
    const placed = await a.place(c, { [p]: 3, [q]: 2 });
    // PENDING when the order service already knew both prices (priced as it was placed),
    // PROCESSING while the product service quotes it.
    assert.ok(
      ["ORDER_STATUS_PROCESSING", "ORDER_STATUS_PENDING"].includes(placed.status),
      placed.status,
    );
    assert.deepEqual(placed.items, { [p]: 3, [q]: 2 });

    const o = await a.settled(c, placed.id);
    assert.equal(o.status, "ORDER_STATUS_APPROVED");
    assert.equal(o.totalPriceCents, String(3 * 1250 + 2 * 199));
    assert.deepEqual(o.unitPricesCents, { [p]: "1250", [q]: "199" });
    assert.ok(o.transactionId, "approved order names its transaction");
    assert.ok(o.shippingId, "approved order names its shipment");

    assert.equal(await a.stock(p), 7);
    assert.equal(await a.stock(q), 3);
    assert.equal(await a.balance(c), 10_000n - 4148n);
    const txs = await a.transactions(c);
    assert.deepEqual(txs.map((t) => [t.orderId, t.amountCents, t.reversedAt]), [[
      o.id,
      "4148",
      undefined,
    ]]);

    const shipment = await a.ok<{ shipment: { status: string; orderId: string } }>(
      "GET",
      `/v1/shipping/shipment/${o.shippingId}`,
      { token: c.token },
    );
    assert.equal(shipment.shipment.status, "SHIPMENT_STATUS_ALLOCATED");
    assert.equal(shipment.shipment.orderId, o.id);
    const manifest = await a.ok<{ manifest: Array<{ productId: string; quantity: number }> }>(
      "GET",
      `/v1/shipping/shipment/${o.shippingId}/manifest`,
      { token: c.token },
    );
    assert.deepEqual(
      Object.fromEntries(manifest.manifest.map((m) => [m.productId, m.quantity])),
      { [p]: 3, [q]: 2 },
    );
  },
);

Deno.test("saga: a single-item order keeps its item (seed defect B2)", opts, async () => {
  const a = await api();
  const p = await a.product(500, 1);
  const c = await buyer(500n);
  const o = await a.settled(c, (await a.place(c, { [p]: 1 })).id);
  assert.equal(o.status, "ORDER_STATUS_APPROVED");
  assert.deepEqual(o.items, { [p]: 1 });
  assert.equal(await a.balance(c), 0n);
});

Deno.test("saga: an unknown product → REJECTED, nothing else touched", opts, async () => {
  const a = await api();
  const p = await a.product(100, 4);
  const c = await buyer(1_000n);
  const ghost = crypto.randomUUID();
  const o = await a.settled(c, (await a.place(c, { [p]: 1, [ghost]: 1 })).id);
  assert.equal(o.status, "ORDER_STATUS_REJECTED");
  assert.equal(o.rejectReason, "REJECT_REASON_PRODUCT_UNAVAILABLE");
  assert.equal(await a.stock(p), 4);
  assert.equal(await a.balance(c), 1_000n);
  assert.deepEqual(await a.transactions(c), []);
});

Deno.test(
  "saga: insufficient stock → REJECTED, stock unchanged, no reservation left",
  opts,
  async () => {
    const a = await api();
    const p = await a.product(100, 2);
    const q = await a.product(100, 9);
    const c = await buyer(10_000n);
    const o = await a.settled(c, (await a.place(c, { [p]: 3, [q]: 1 })).id);
    assert.equal(o.status, "ORDER_STATUS_REJECTED");
    assert.equal(o.rejectReason, "REJECT_REASON_INSUFFICIENT_STOCK");
    assert.equal(await a.stock(p), 2);
    assert.equal(await a.stock(q), 9, "the item that was in stock was not kept reserved");
    assert.equal(await a.balance(c), 10_000n);
    assert.deepEqual(await a.transactions(c), []);
  },
);

Deno.test(
  "saga: shipment allocation fails → stock returned, REJECTED, no payment",
  opts,
  async () => {
    const a = await api();
    const units = TEST_SETTINGS.maxUnitsPerShipment + 1;
    const p = await a.product(1, units + 10);
    const c = await buyer(10_000n);
    const o = await a.settled(c, (await a.place(c, { [p]: units })).id);
    assert.equal(o.status, "ORDER_STATUS_REJECTED");
    assert.equal(o.rejectReason, "REJECT_REASON_SHIPMENT_FAILED");
    await a.eventually(async () => (await a.stock(p)) === units + 10, "stock to be returned");
    assert.equal(await a.balance(c), 10_000n);
    assert.deepEqual(await a.transactions(c), []);
    const s = await a.ok<{ shipment: { status: string } }>(
      "GET",
      `/v1/shipping/shipment/${o.shippingId}`,
      {
        token: c.token,
      },
    );
    assert.equal(s.shipment.status, "SHIPMENT_STATUS_FAILED");
  },
);

Deno.test(
  "saga: insufficient balance → shipment released, stock returned, balance unchanged, REJECTED",
  opts,
  async () => {
    const a = await api();
    const p = await a.product(1250, 6);
    const c = await buyer(1_000n);
    const o = await a.settled(c, (await a.place(c, { [p]: 2 })).id);
    assert.equal(o.status, "ORDER_STATUS_REJECTED");
    assert.equal(o.rejectReason, "REJECT_REASON_PAYMENT_FAILED");
    assert.equal(await a.balance(c), 1_000n, "a failed payment leaves the balance untouched (B9)");
    assert.deepEqual(await a.transactions(c), []);
    await a.eventually(async () => (await a.stock(p)) === 6, "stock to be returned");
    assert.ok(o.shippingId, "the rejected order names the released shipment");
    await a.eventually(async () => {
      const s = await a.ok<{ shipment: { status: string } }>(
        "GET",
        `/v1/shipping/shipment/${o.shippingId}`,
        {
          token: c.token,
        },
      );
      return s.shipment.status === "SHIPMENT_STATUS_RELEASED";
    }, "shipment to be released");
  },
);

Deno.test(
  "saga: N buyers race for K < N units → exactly K approved, stock never negative",
  opts,
  async () => {
    const a = await api();
    const N = 12;
    const K = 5;
    const price = 700n;
    const p = await a.product(price, K);
    const buyers = await Promise.all(Array.from({ length: N }, () => buyer(price * 2n)));
    const placed = await Promise.all(buyers.map((c) => a.place(c, { [p]: 1 })));
    const settled = await Promise.all(placed.map((o, i) => a.settled(buyers[i]!, o.id, 60_000)));
    const approved = settled.filter((o) => o.status === "ORDER_STATUS_APPROVED");
    assert.equal(approved.length, K);
    assert.equal(settled.filter((o) => o.status === "ORDER_STATUS_REJECTED").length, N - K);
    assert.equal(await a.stock(p), 0);
    let debited = 0n;
    for (const c of buyers) {
      for (const t of await a.transactions(c)) if (!t.reversedAt) debited += BigInt(t.amountCents);
    }
    assert.equal(debited, price * BigInt(K), "total debits = total of approved orders");
    for (const [i, o] of settled.entries()) {
      const expected = o.status === "ORDER_STATUS_APPROVED" ? price : 2n * price;
      assert.equal(await a.balance(buyers[i]!), expected);
    }
  },
);
