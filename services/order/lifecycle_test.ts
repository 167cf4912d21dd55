/**
 * The order after approval, against its real database: following its shipment (SHIPPED,
 * COMPLETED, in either arrival order), cancelling through the API (refused after dispatch,
 * idempotent, deferred while the order is still being placed), the compensations that end it
 * CANCELLED, and the cancellation racing the payment step, both ways.
 */
import assert from "node:assert/strict";
import { uuidv7 } from "@stocklet/shared/ids";
import { events, order } from "@stocklet/shared/proto";
import { restApp } from "@stocklet/shared/server";
import {
  only,
  type SagaParticipant,
  sagaParticipant,
  shipmentDispatched,
  topicsOf,
} from "@stocklet/testing/saga";
import { testKeys } from "@stocklet/testing/tokens";
import { orderReactions } from "./reactions.ts";
import { orderRpc } from "./rpc.ts";
import { cancelOrder } from "./steps.ts";

const Status = order.OrderStatus;
const Payment = events.PaymentProcessedEvent_Type;

interface OrderJson {
  id: string;
  status: string;
  carrier?: string;
  trackingNumber?: string;
  shippedAt?: string;
  deliveredAt?: string;
  cancelRequestedAt?: string;
  refundedCents?: string;
}

async function statusOf(p: SagaParticipant, orderId: string): Promise<order.OrderStatus> {
  const [row] = await p.sql<Array<{ status: order.OrderStatus }>>`
    select status from orders where id = ${orderId}`;
  return row!.status;
}

Deno.test("order lifecycle: shipment, cancellation, compensations and races", async (t) => {
  const p = await sagaParticipant("order", orderReactions());
  const keys = await testKeys();
  const app = restApp({ bindings: [orderRpc(p.sql)], verifier: keys.verifier });
  const customerId = uuidv7();
  const token = await keys.sign({ sub: customerId });
  const stranger = await keys.sign({ sub: uuidv7() });
  const admin = await keys.sign({ sub: uuidv7(), roles: ["admin"] });
  const product = uuidv7();
  const total = 2n * 250n;

  const request = async (method: string, path: string, as = token, body?: unknown) => {
    const res = await app.request(path, {
      method,
      headers: { authorization: `Bearer ${as}`, "content-type": "application/json" },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, json: JSON.parse(await res.text()) };
  };
  const view = async (id: string): Promise<OrderJson> =>
    (await request("GET", `/v1/order/orders/${id}`)).json.order;
  const cancel = (id: string, as = token) => request("POST", `/v1/order/orders/${id}/cancel`, as);

  /** An order placed and priced: PENDING. */
  const pending = async (): Promise<string> => {
    const r = await request("POST", "/v1/order/place", token, { [product]: 2 });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const id = r.json.order.id as string;
    await p.deliver("product.pricequotation", events.ProductPriceQuoteEventSchema, {
      revision: 1,
      type: events.ProductPriceQuoteEvent_Type.AVAILABLE,
      orderId: id,
      productQuantities: { [product]: 2 },
      productPricesCents: { [product]: 250n },
      totalPriceCents: total,
    });
    await p.drain();
    return id;
  };
  const payment = (id: string, type = Payment.SUCCESS, shipmentId = uuidv7()) =>
    ["payment.processing", events.PaymentProcessedEventSchema, {
      revision: 1,
      type,
      orderId: id,
      customerId,
      amountCents: total,
      shipmentId,
      ...(type === Payment.SUCCESS ? { transactionId: uuidv7() } : {}),
    }] as const;
  /** An APPROVED order and its shipment. */
  const approved = async (): Promise<{ id: string; shipmentId: string }> => {
    const id = await pending();
    const shipmentId = uuidv7();
    only(
      await p.deliver(...payment(id, Payment.SUCCESS, shipmentId)),
      "order.state.approved",
      events.OrderApprovedEventSchema,
    );
    return { id, shipmentId };
  };
  const delivered = (id: string, shipmentId: string) =>
    p.deliver("shipping.shipment.delivered", events.ShipmentDeliveredEventSchema, {
      revision: 1,
      shipmentId,
      orderId: id,
      customerId,
      carrier: "DHL",
      trackingNumber: "JD0123456789",
    });
  const stockReturned = (id: string) =>
    p.deliver("warehouse.reservation.returned", events.StockReservationEventSchema, {
      revision: 1,
      type: events.StockReservationEvent_Type.STOCK_RETURNED,
      orderId: id,
      reservationId: uuidv7(),
      reservationStock: { [product]: 2 },
    });
  const refunded = (id: string, cents = total) =>
    p.deliver("payment.transaction.reversed", events.TransactionReversedEventSchema, {
      revision: 1,
      transactionId: uuidv7(),
      amountCents: cents,
      orderId: id,
      customerId,
    });

  try {
    await t.step("an approved order follows its shipment: SHIPPED, then COMPLETED", async () => {
      const o = await approved();
      const out = await p.deliver(
        ...shipmentDispatched(o.id, customerId, { shipmentId: o.shipmentId }),
      );
      assert.deepEqual(out, [], "shipping's event tells the fact; the order adds none");
      const shipped = await view(o.id);
      assert.deepEqual(
        [shipped.status, shipped.carrier, shipped.trackingNumber],
        ["ORDER_STATUS_SHIPPED", "DHL", "JD0123456789"],
      );
      assert.ok(shipped.shippedAt);
      assert.deepEqual(await delivered(o.id, o.shipmentId), []);
      const done = await view(o.id);
      assert.equal(done.status, "ORDER_STATUS_COMPLETED");
      assert.ok(done.deliveredAt);
      assert.deepEqual(await p.deliver(...shipmentDispatched(o.id, customerId)), []);
      assert.equal(await statusOf(p, o.id), Status.COMPLETED, "a late repeat moves nothing back");
    });

    await t.step(
      "a delivery heard before its dispatch completes the order all the same",
      async () => {
        const o = await approved();
        await delivered(o.id, o.shipmentId);
        assert.equal(await statusOf(p, o.id), Status.COMPLETED);
        await p.deliver(...shipmentDispatched(o.id, customerId, { shipmentId: o.shipmentId }));
        const v = await view(o.id);
        assert.deepEqual([v.status, v.carrier], ["ORDER_STATUS_COMPLETED", "DHL"]);
      },
    );

    await t.step(
      "cancelling an approved order: CANCELLING, once; CANCELLED once refunded and restocked",
      async () => {
        const o = await approved();
        const r = await cancel(o.id);
        assert.equal(r.status, 200, JSON.stringify(r.json));
        assert.equal(r.json.order.status, "ORDER_STATUS_CANCELLING");
        const c = only(
          await p.drain(),
          "order.state.cancelling",
          events.OrderCancellingEventSchema,
        );
        assert.deepEqual(
          [c.orderId, c.customerId, c.shipmentId, c.totalPriceCents],
          [o.id, customerId, o.shipmentId, total],
        );
        const again = await cancel(o.id);
        assert.deepEqual([again.status, again.json.order.status], [200, "ORDER_STATUS_CANCELLING"]);
        assert.deepEqual(await p.drain(), [], "cancelling twice publishes nothing more");
        assert.deepEqual(await refunded(o.id), [], "not CANCELLED before the stock is back");
        assert.equal(await statusOf(p, o.id), Status.CANCELLING);
        const out = await stockReturned(o.id);
        const done = only(out, "order.state.cancelled", events.OrderCancelledEventSchema);
        assert.deepEqual([done.orderId, done.customerId, done.refundedCents], [
          o.id,
          customerId,
          total,
        ]);
        const v = await view(o.id);
        assert.deepEqual([v.status, v.refundedCents], ["ORDER_STATUS_CANCELLED", String(total)]);
        assert.deepEqual(await stockReturned(o.id), [], "a repeated report changes nothing");
        assert.deepEqual(await refunded(o.id), []);
        const late = await cancel(o.id);
        assert.deepEqual([late.status, late.json.order.status], [200, "ORDER_STATUS_CANCELLED"]);
      },
    );

    await t.step("the compensations may report in either order", async () => {
      const o = await approved();
      await cancel(o.id);
      await p.drain();
      assert.deepEqual(await stockReturned(o.id), []);
      only(await refunded(o.id), "order.state.cancelled", events.OrderCancelledEventSchema);
    });

    await t.step(
      "after dispatch, a cancellation is refused with 409 and changes nothing",
      async () => {
        const o = await approved();
        await p.deliver(...shipmentDispatched(o.id, customerId, { shipmentId: o.shipmentId }));
        const r = await cancel(o.id);
        assert.equal(r.status, 409);
        assert.equal(r.json.code, 9, "FAILED_PRECONDITION");
        assert.match(r.json.message, /dispatched and can no longer be cancelled/);
        await delivered(o.id, o.shipmentId);
        assert.match((await cancel(o.id)).json.message, /delivered/);
        assert.deepEqual(await p.drain(), []);
        assert.equal(await statusOf(p, o.id), Status.COMPLETED);
      },
    );

    await t.step("a CANCELLING order whose shipment had left follows it to SHIPPED", async () => {
      const o = await approved();
      await cancel(o.id);
      await p.drain();
      await p.deliver(...shipmentDispatched(o.id, customerId, { shipmentId: o.shipmentId }));
      const v = await view(o.id);
      assert.deepEqual([v.status, v.carrier], ["ORDER_STATUS_SHIPPED", "DHL"]);
      assert.equal((await cancel(o.id)).status, 409);
    });

    await t.step(
      "rejected orders are not cancelled; their compensations are not a cancellation's",
      async () => {
        const id = await pending();
        await p.deliver(...payment(id, Payment.FAILED));
        await p.drain();
        const r = await cancel(id);
        assert.equal(r.status, 409);
        assert.match(r.json.message, /rejected: there is nothing to cancel/);
        assert.deepEqual(await stockReturned(id), []);
        assert.deepEqual(await refunded(id), []);
        assert.equal(await statusOf(p, id), Status.REJECTED);
      },
    );

    await t.step("only the owner or an admin may cancel; others get 404", async () => {
      const o = await approved();
      assert.equal((await cancel(o.id, stranger)).status, 404);
      assert.equal((await cancel(uuidv7())).status, 404);
      assert.equal((await cancel("not-a-uuid")).status, 400);
      assert.equal(await statusOf(p, o.id), Status.APPROVED);
      const r = await cancel(o.id, admin);
      assert.deepEqual([r.status, r.json.order.status], [200, "ORDER_STATUS_CANCELLING"]);
      await p.drain();
    });

    await t.step(
      "cancelled while PENDING: marked, then cancelled as soon as it is paid",
      async () => {
        const id = await pending();
        const r = await cancel(id);
        assert.deepEqual([r.status, r.json.order.status], [200, "ORDER_STATUS_PENDING"]);
        assert.ok(r.json.order.cancelRequestedAt);
        assert.deepEqual(await p.drain(), []);
        const out = await p.deliver(...payment(id));
        assert.deepEqual(topicsOf(out), ["order.state.cancelling"], "never announced approved");
        assert.equal(await statusOf(p, id), Status.CANCELLING);
      },
    );

    await t.step(
      "cancelled while PENDING, then refused payment: REJECTED, nothing taken",
      async () => {
        const id = await pending();
        await cancel(id);
        only(
          await p.deliver(...payment(id, Payment.FAILED)),
          "order.state.rejected",
          events.OrderRejectedEventSchema,
        );
        assert.equal(await statusOf(p, id), Status.REJECTED);
      },
    );

    await t.step(
      "race: the cancellation holding the order first; the payment then cancels it",
      async () => {
        const id = await pending();
        const held = p.holdTx("cancel", (tx) => cancelOrder(tx, id));
        await held.applied; // marked, not committed
        const paying = p.start(...payment(id));
        await p.lockWaiters(1);
        await held.commit();
        await paying;
        assert.deepEqual(topicsOf(await p.drain()), ["order.state.cancelling"]);
        assert.equal(await statusOf(p, id), Status.CANCELLING);
      },
    );

    await t.step(
      "race: the payment holding the order first; the cancellation then cancels it",
      async () => {
        const id = await pending();
        const held = p.hold(...payment(id));
        await held.applied; // APPROVED, not committed
        const cancelling = cancel(id);
        await p.lockWaiters(1);
        await held.commit();
        const r = await cancelling;
        assert.deepEqual([r.status, r.json.order.status], [200, "ORDER_STATUS_CANCELLING"]);
        assert.deepEqual(topicsOf(await p.drain()), [
          "order.state.approved",
          "order.state.cancelling",
        ]);
      },
    );
  } finally {
    await p.close();
  }
});
