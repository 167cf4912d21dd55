/**
 * Debezium delivers at least once, so every consumer must be idempotent: delivering every saga event
 * of a run a second time (same id header, same bytes) must change nothing in any database.
 */
import assert from "node:assert/strict";
import { SERVICE_NAMES } from "@stocklet/shared/topology";
import { consumerGroupOf } from "@stocklet/shared/topology";
import { TOPICS } from "@stocklet/shared/topics";
import { api } from "@stocklet/testing/stack";
import { readAll, republish, testKafka, waitCaughtUp } from "@stocklet/testing/kafka";
import { fingerprint } from "@stocklet/testing/state";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test("replay: delivering every saga event a second time changes nothing", opts, async () => {
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
  await a.eventually(async () => (await a.stock(p)) === 3, "the rejected order's stock to return");
  await waitCaughtUp(kafka, groups);

  const before = await fingerprint(infra.serviceDbUrl);
  const topics = [...TOPICS.keys()];
  const keys = new Set([approved.id, rejected.id, rich.id, poor.id, p]);
  const records = (await readAll(kafka, topics)).filter((r) => r.key && keys.has(r.key.toString()));
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
    ]
  ) assert.ok(sagaTopics.has(t), `the run published on ${t}`);

  await republish(kafka, records);
  await waitCaughtUp(kafka, groups);
  const after = await fingerprint(infra.serviceDbUrl);
  assert.deepEqual(after, before);
  console.log(
    `replayed ${records.length} events on ${sagaTopics.size} topics: no database changed`,
  );
});
