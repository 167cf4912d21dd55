/**
 * An order's life after approval, end to end through the edge against the real stack (Postgres,
 * Kafka, Debezium, the eight services and a real SMTP server): fulfilment with its three emails,
 * cancellation with its refund, the races a cancellation can lose or win, and the emails the SMTP
 * server actually received.
 */
import assert from "node:assert/strict";
import { api, type Customer, type OrderJson } from "@stocklet/testing/stack";

const opts = { sanitizeOps: false, sanitizeResources: false };

async function approvedOrder(
  priceCents: number,
  quantity: number,
  credit: bigint,
  stock = 10,
): Promise<{ c: Customer; product: string; order: OrderJson }> {
  const a = await api();
  const product = await a.product(priceCents, stock);
  const c = await a.customer();
  await a.credit(c.id, credit);
  const placed = await a.place(c, { [product]: quantity });
  const order = await a.settled(c, placed.id);
  assert.equal(order.status, "ORDER_STATUS_APPROVED");
  return { c, product, order };
}

Deno.test(
  "lifecycle: approved → dispatched → delivered: SHIPPED, COMPLETED, three emails received",
  opts,
  async () => {
    const a = await api();
    const { c, product, order } = await approvedOrder(1250, 2, 10_000n);
    const shipmentId = order.shippingId!;
    const dispatched = await a.dispatch(shipmentId, "DHL Express", "JD014600006281");
    assert.equal(dispatched.status, 200, JSON.stringify(dispatched.json));
    assert.equal(dispatched.json.shipment.status, "SHIPMENT_STATUS_DISPATCHED");

    const shipped = await a.orderReaches(c, order.id, ["SHIPPED"]);
    assert.deepEqual(
      [shipped.shippingId, shipped.carrier, shipped.trackingNumber],
      [shipmentId, "DHL Express", "JD014600006281"],
    );
    assert.ok(shipped.shippedAt);
    assert.equal(await a.stock(product), 8, "the reserved units left; nothing came back");
    assert.equal(await a.balance(c), 10_000n - 2500n);

    const again = await a.dispatch(shipmentId, "DHL Express", "JD014600006281");
    assert.equal(again.status, 200, "the same dispatch again is harmless");
    assert.equal((await a.dispatch(shipmentId, "UPS", "1Z999")).status, 409);

    const t0 = Date.now();
    const delivered = await a.deliver(shipmentId);
    assert.equal(delivered.status, 200, JSON.stringify(delivered.json));
    const done = await a.orderReaches(c, order.id, ["COMPLETED"]);
    assert.ok(done.deliveredAt);
    const cancel = await a.cancel(c, order.id);
    assert.equal(cancel.status, 409, "a delivered order is not cancelled");

    const mail = await a.mailArrives(c.email, 3);
    const ms = Date.now() - t0;
    console.log(`deliver request → "delivered" email received by the SMTP server: ${ms} ms`);
    assert.deepEqual(
      mail.map((m) => m.subject.replace(/#\w+/, "#")),
      [
        "Your order # is confirmed",
        "Your order # is on its way",
        "Your order # was delivered",
      ],
    );
    for (const m of mail) {
      assert.deepEqual(m.envelope.to, [c.email]);
      assert.match(m.text, /^Hello Test,/);
      assert.match(m.text, new RegExp(order.id));
      assert.match(m.html, /<p>Hello Test,<\/p>/);
    }
    assert.match(mail[0]!.text, /took 25\.00 from your balance/);
    assert.match(mail[1]!.text, /with DHL Express\.\n\nTracking number: JD014600006281\./);

    const list = await a.ok<{ notifications: Array<Record<string, string>> }>(
      "GET",
      "/v1/notification/list",
      { token: c.token },
    );
    assert.deepEqual(
      list.notifications.map((n) => [n.kind, n.orderId, n.status, n.recipient]),
      [
        ["NOTIFICATION_KIND_ORDER_DELIVERED", order.id, "NOTIFICATION_STATUS_SENT", c.email],
        ["NOTIFICATION_KIND_ORDER_SHIPPED", order.id, "NOTIFICATION_STATUS_SENT", c.email],
        ["NOTIFICATION_KIND_ORDER_APPROVED", order.id, "NOTIFICATION_STATUS_SENT", c.email],
      ],
      "newest first, each sent",
    );
  },
);

Deno.test(
  "lifecycle: cancelled before dispatch → refunded to the cent, stock back, CANCELLED, email",
  opts,
  async () => {
    const a = await api();
    const { c, product, order } = await approvedOrder(1999, 3, 10_000n, 7);
    assert.equal(await a.balance(c), 10_000n - 5997n);
    assert.equal(await a.stock(product), 4);

    const r = await a.cancel(c, order.id);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.ok(
      ["ORDER_STATUS_CANCELLING", "ORDER_STATUS_CANCELLED"].includes(r.json.order.status),
      r.json.order.status,
    );
    const cancelled = await a.orderReaches(c, order.id, ["CANCELLED"]);
    assert.equal(cancelled.refundedCents, "5997");
    assert.equal(await a.balance(c), 10_000n, "refunded to the cent");
    assert.equal(await a.stock(product), 7, "every unit back on the shelf");
    const txs = await a.transactions(c);
    assert.equal(txs.length, 1);
    assert.ok(txs[0]!.reversedAt, "the debit is marked reversed");

    const again = await a.cancel(c, order.id);
    assert.deepEqual([again.status, again.json.order.status], [200, "ORDER_STATUS_CANCELLED"]);
    const dispatch = await a.dispatch(order.shippingId!);
    assert.equal(dispatch.status, 409);
    assert.match(String(dispatch.json.message), /released: its order was cancelled/);
    const shipment = await a.ok<{ shipment: { status: string } }>(
      "GET",
      `/v1/shipping/shipment/${order.shippingId}`,
      { token: c.token },
    );
    assert.equal(shipment.shipment.status, "SHIPMENT_STATUS_RELEASED");

    const mail = await a.mailArrives(c.email, 2);
    assert.match(mail[1]!.subject, /was cancelled and 59\.97 refunded$/);
    assert.match(mail[1]!.text, /We refunded 59\.97 to your balance\./);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await a.mailTo(c.email)).length, 2, "no second cancellation email");
  },
);

Deno.test("lifecycle: cancelling after dispatch → 409, nothing refunded", opts, async () => {
  const a = await api();
  const { c, product, order } = await approvedOrder(500, 1, 1_000n);
  assert.equal((await a.dispatch(order.shippingId!)).status, 200);
  await a.orderReaches(c, order.id, ["SHIPPED"]);
  const r = await a.cancel(c, order.id);
  assert.equal(r.status, 409);
  assert.equal((r.json as unknown as { code: number }).code, 9, "FAILED_PRECONDITION");
  assert.match(String(r.json.message), /dispatched and can no longer be cancelled/);
  assert.equal(await a.balance(c), 500n);
  assert.equal(await a.stock(product), 9);
  assert.equal((await a.orderReaches(c, order.id, ["SHIPPED"])).status, "ORDER_STATUS_SHIPPED");
});

Deno.test(
  "lifecycle: cancels racing the payment → every order CANCELLED, every cent and unit back",
  opts,
  async () => {
    const a = await api();
    const product = await a.product(700, 20);
    const buyers = await Promise.all(Array.from({ length: 6 }, () => a.customer()));
    await Promise.all(buyers.map((c) => a.credit(c.id, 5_000n)));
    // Cancel at once, while the saga runs: each cancellation lands somewhere between PROCESSING
    // and APPROVED, whatever the timing.
    const orders = await Promise.all(buyers.map(async (c, i) => {
      const placed = await a.place(c, { [product]: 2 });
      if (i % 2) await new Promise((r) => setTimeout(r, 20 * i));
      const r = await a.cancel(c, placed.id);
      assert.equal(r.status, 200, JSON.stringify(r.json));
      return placed.id;
    }));
    const final = await Promise.all(
      orders.map((id, i) => a.orderReaches(buyers[i]!, id, ["CANCELLED", "REJECTED"], 60_000)),
    );
    assert.deepEqual(final.map((o) => o.status), final.map(() => "ORDER_STATUS_CANCELLED"));
    for (const [i, c] of buyers.entries()) {
      assert.equal(await a.balance(c), 5_000n, `buyer ${i}: balance whole`);
      const live = (await a.transactions(c)).filter((t) => !t.reversedAt);
      assert.deepEqual(live, [], `buyer ${i}: no live debit`);
      assert.ok(final[i]!.cancelRequestedAt);
    }
    await a.eventually(async () => (await a.stock(product)) === 20, "all stock back");
  },
);

Deno.test(
  "lifecycle: a cancellation racing a dispatch has one winner, and money and stock agree",
  opts,
  async () => {
    const a = await api();
    const { c, product, order } = await approvedOrder(300, 1, 1_000n);
    const [cancel, dispatch] = await Promise.all([
      a.cancel(c, order.id),
      a.dispatch(order.shippingId!),
    ]);
    const end = await a.orderReaches(c, order.id, ["CANCELLED", "SHIPPED"], 30_000);
    if (end.status === "ORDER_STATUS_CANCELLED") {
      assert.equal(dispatch.status, 409, "the cancellation won: the dispatch was refused");
      assert.equal(await a.balance(c), 1_000n);
      assert.equal(await a.stock(product), 10);
    } else {
      assert.equal(dispatch.status, 200, "the dispatch won");
      assert.ok([200, 409].includes(cancel.status), `cancel → ${cancel.status}`);
      assert.equal(await a.balance(c), 700n, "nothing refunded for a shipped order");
      assert.equal(await a.stock(product), 9);
    }
    console.log(
      `cancel vs dispatch: ${end.status} won (cancel ${cancel.status}, dispatch ${dispatch.status})`,
    );
  },
);

Deno.test(
  "lifecycle: dispatch and delivery are the admin's; bad details are 400",
  opts,
  async () => {
    const a = await api();
    const { c, order } = await approvedOrder(100, 1, 1_000n);
    const asCustomer = await a.call("POST", `/v1/shipping/shipment/${order.shippingId}/dispatch`, {
      token: c.token,
      body: { carrier: "DHL", tracking_number: "X1" },
    });
    assert.equal(asCustomer.status, 403);
    const anonymous = await a.call("POST", `/v1/shipping/shipment/${order.shippingId}/deliver`);
    assert.equal(anonymous.status, 401);
    const bad = await a.dispatch(order.shippingId!, "", "<script>");
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.json), /carrier/);
    assert.match(JSON.stringify(bad.json), /tracking_number/);
    const notDispatched = await a.deliver(order.shippingId!);
    assert.equal(notDispatched.status, 409);
    assert.equal((await a.orderReaches(c, order.id, ["APPROVED"])).status, "ORDER_STATUS_APPROVED");
  },
);
