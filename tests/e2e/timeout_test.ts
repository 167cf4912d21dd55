/**
 * A saga that stalls is noticed: with the shipping service down, an order waits at PENDING with its
 * stock reserved until the order service's timeout rejects it (reason TIMEOUT); everyone then
 * compensates — also shipping and payment once shipping is back and processes its late events.
 */
import assert from "node:assert/strict";
import { restartTestApp, TEST_SETTINGS } from "@stocklet/scripts/stack";
import { stopApp } from "@stocklet/scripts/stack/apps";
import { replicasOf } from "@stocklet/scripts/stack/config";
import { api } from "@stocklet/testing/stack";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test(
  "saga: a stalled order is rejected after the timeout and fully compensated",
  opts,
  async () => {
    const a = await api();
    const p = await a.product(400, 5);
    const c = await a.customer();
    await a.credit(c.id, 2_000n);

    // Every replica (`STOCKLET_REPLICAS`): one left would allocate the shipment.
    const shipping = replicasOf("shipping");
    const restartShipping = () =>
      Promise.all(shipping.map((app) => restartTestApp(app, a.stack.infra)));
    await Promise.all(shipping.map((app) => stopApp("test", app)));
    let shippingBack = false;
    try {
      const placed = await a.place(c, { [p]: 2 });
      // Reserved (stock taken), then stuck: nobody allocates a shipment.
      await a.eventually(async () => (await a.stock(p)) === 3, "the stock to be reserved");
      const pending = await a.ok<{ order: { status: string } }>(
        "GET",
        `/v1/order/orders/${placed.id}`,
        {
          token: c.token,
        },
      );
      assert.equal(pending.order.status, "ORDER_STATUS_PENDING");

      const o = await a.settled(c, placed.id, TEST_SETTINGS.sagaTimeoutMs + 15_000);
      assert.equal(o.status, "ORDER_STATUS_REJECTED");
      assert.equal(o.rejectReason, "REJECT_REASON_TIMEOUT");
      await a.eventually(async () => (await a.stock(p)) === 5, "the reserved stock to be returned");

      // Shipping comes back and sees the reservation and the rejection late, in either order:
      // no shipment may stay allocated and no money may stay taken.
      await restartShipping();
      shippingBack = true;
      await a.eventually(
        async () => {
          const txs = await a.transactions(c);
          return (await a.balance(c)) === 2_000n && txs.every((t) => t.reversedAt !== undefined);
        },
        "the balance to be whole",
        20_000,
      );
      assert.equal(await a.stock(p), 5);
    } finally {
      if (!shippingBack) await restartShipping();
    }
  },
);
