/**
 * Debezium delivers at least once, so every consumer must be idempotent: delivering every event of
 * a run a second time (same id header, same bytes) — the saga's, fulfilment's, a cancellation's
 * and the user events — must change nothing in any database and send no second email.
 */
import assert from "node:assert/strict";
import { SERVICE_NAMES } from "@stocklet/shared/topology";
import { consumerGroupOf } from "@stocklet/shared/topology";
import { TOPICS } from "@stocklet/shared/topics";
import { api } from "@stocklet/testing/stack";
import { readAll, republish, testKafka, waitCaughtUp } from "@stocklet/testing/kafka";
import { fingerprint } from "@stocklet/testing/state";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test(
  "replay: delivering every event a second time changes nothing, emails nobody",
  opts,
  async () => {
    const a = await api();
    const infra = a.stack.infra;
    const kafka = testKafka(infra.kafkaBrokers);
    const groups = SERVICE_NAMES.filter((s) => s !== "auth").map(consumerGroupOf);

    // A run with an approved and a rejected (compensated) order.
    const p = await a.product(900, 5);
    const rich = await a.customer();
    const poor = await a.customer();
    await a.credit(rich.id, 5_000n);
    await a.credit(poor.id, 100n);
    const approved = await a.settled(rich, (await a.place(rich, { [p]: 2 })).id);
    const rejected = await a.settled(poor, (await a.place(poor, { [p]: 1 })).id);
    assert.equal(approved.status, "ORDER_STATUS_APPROVED");
    assert.equal(rejected.status, "ORDER_STATUS_REJECTED");
    // An order of a product the order service never heard of: quoted (refused) by the product
    // service, the saga's other way in.
    const unsold = await a.settled(poor, (await a.place(poor, { [crypto.randomUUID()]: 1 })).id);
    assert.equal(unsold.status, "ORDER_STATUS_REJECTED");
    await a.eventually(
      async () => (await a.stock(p)) === 3,
      "the rejected order's stock to return",
    );
    // Its life after approval: dispatched and delivered; and another order cancelled and refunded.
    assert.equal((await a.dispatch(approved.shippingId!)).status, 200);
    await a.orderReaches(rich, approved.id, ["SHIPPED"]);
    assert.equal((await a.deliver(approved.shippingId!)).status, 200);
    await a.orderReaches(rich, approved.id, ["COMPLETED"]);
    const cancelled = await a.settled(rich, (await a.place(rich, { [p]: 1 })).id);
    assert.equal((await a.cancel(rich, cancelled.id)).status, 200);
    await a.orderReaches(rich, cancelled.id, ["CANCELLED"]);
    // approved, shipped, delivered; confirmed and cancelled; rejected twice.
    await a.mailArrives(rich.email, 5);
    await a.mailArrives(poor.email, 2);
    await waitCaughtUp(kafka, groups);
    await a.eventually(async () => {
      const sent = await Promise.all(
        [rich, poor].map((c) =>
          a.ok<{ notifications: Array<{ status: string }> }>("GET", "/v1/notification/list", {
            token: c.token,
          })
        ),
      );
      return sent.every((r) =>
        r.notifications.every((n) => n.status === "NOTIFICATION_STATUS_SENT")
      );
    }, "every notification sent");
    const mailBefore = (await a.mailTo(rich.email)).length + (await a.mailTo(poor.email)).length;

    const before = await fingerprint((svc) => infra.serviceDbUrl(svc));
    const topics = [...TOPICS.keys()];
    const keys = new Set([approved.id, rejected.id, unsold.id, cancelled.id, rich.id, poor.id, p]);
    const records = (await readAll(kafka, topics)).filter((r) =>
      r.key && keys.has(r.key.toString())
    );
    const sagaTopics = new Set(records.map((r) => r.topic));
    for (
      const t of [
        "order.state.created",
        "product.pricequotation",
        "order.state.pending",
        "warehouse.reservation.reserved",
        "shipping.shipment.allocation",
        "payment.processing",
        "order.state.approved",
        "order.state.rejected",
        "user.state.created",
        "product.state.created",
        "order.state.cancelling",
        "order.state.cancelled",
        "shipping.shipment.dispatched",
        "shipping.shipment.delivered",
        "shipping.shipment.cancelled",
        "warehouse.reservation.consumed",
        "warehouse.reservation.returned",
        "payment.transaction.reversed",
      ]
    ) assert.ok(sagaTopics.has(t), `the run published on ${t}`);

    await republish(kafka, records);
    await waitCaughtUp(kafka, groups);
    await new Promise((r) => setTimeout(r, 1_000)); // time for a sender woken by a replay
    const after = await fingerprint((svc) => infra.serviceDbUrl(svc));
    assert.deepEqual(after, before);
    const mailAfter = (await a.mailTo(rich.email)).length + (await a.mailTo(poor.email)).length;
    assert.equal(mailAfter, mailBefore, "no second email");
    console.log(
      `replayed ${records.length} events on ${sagaTopics.size} topics: no database changed`,
    );
  },
);
