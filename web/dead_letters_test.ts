import assert from "node:assert/strict";
import { deadLetterOf } from "./dead_letters.ts";

Deno.test("deadLetterOf() reads where a dead letter came from and why", () => {
  const d = deadLetterOf({
    topic: "order-service.dlq",
    partition: 0,
    offset: "7",
    key: "k",
    value: new Uint8Array([1, 2]),
    headers: {
      id: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
      type: "stocklet.events.v1.OrderCreatedEvent",
      "dlq.error": "Error: boom",
      "dlq.topic": "order.state.created",
      "dlq.partition": "0",
      "dlq.offset": "41",
      "dlq.consumer": "order-service",
      "dlq.attempts": "5",
      "dlq.at": "2026-11-30T20:00:00.000Z",
    },
  });
  assert.equal(d.sourceTopic, "order.state.created");
  assert.equal(d.consumer, "order-service");
  assert.equal(d.error, "Error: boom");
  assert.equal(d.attempts, 5);
  assert.equal(d.failedAt?.toISOString(), "2026-11-30T20:00:00.000Z");
  assert.equal(d.eventType, "stocklet.events.v1.OrderCreatedEvent");
  assert.deepEqual([...d.payload!], [1, 2]);
  assert.equal(d.offset, "7");
});

Deno.test("deadLetterOf() keeps a record without dlq headers (written by someone else)", () => {
  const d = deadLetterOf({
    topic: "x.dlq",
    partition: 1,
    offset: "0",
    key: null,
    value: null,
    headers: { "dlq.attempts": "many", "dlq.at": "yesterday" },
  });
  assert.equal(d.sourceTopic, null);
  assert.equal(d.attempts, null);
  assert.equal(d.failedAt, null);
  assert.equal(d.payload, null);
});
