/**
 * The consumer runtime against the real test infrastructure: Postgres with an outbox, Debezium
 * relaying it, Kafka, and a kafkajs consumer group. Each test uses a throwaway database, connector
 * and topic (`@stocklet/testing/outbox`), dropped at the end.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { create, type DescMessage, toBinary } from "@bufbuild/protobuf";
import { Kafka, logLevel, Partitioners } from "kafkajs";
import { testInfra } from "@stocklet/testing/infra";
import { collect, createOutboxFixture, type OutboxFixture } from "@stocklet/testing/outbox";
import { withDatabase } from "@stocklet/scripts/service_init";
import { connectDb, type Sql, transaction } from "../db.ts";
import { uuidv7 } from "../ids.ts";
import { flushOutbox, purgeOutbox } from "../outbox.ts";
import { events } from "../proto.ts";
import type { Reaction } from "./reaction.ts";
import {
  activeIds,
  contextFromTraceparent,
  currentTraceparent,
  traceIdOf,
  withSpan,
} from "../tracing.ts";
import { type ConsumerRuntime, startConsumer } from "./runtime.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const Schema = events.OrderCreatedEventSchema;

interface Bench {
  fixture: OutboxFixture;
  sql: Sql;
  kafka: Kafka;
  brokers: string[];
  group: string;
  cleanup(): Promise<void>;
}

async function bench(): Promise<Bench> {
  const infra = await testInfra();
  const fixture = await createOutboxFixture(infra, "order");
  const sql = connectDb(withDatabase(infra.serviceDbUrl("order"), fixture.database));
  await sql`create table applied (order_id text primary key, n integer not null)`;
  const kafka = new Kafka({
    clientId: "kit-test",
    brokers: infra.kafkaBrokers,
    logLevel: logLevel.NOTHING,
  });
  const group = `it-consumer-${fixture.connector.slot.slice(3)}`;
  return {
    fixture,
    sql,
    kafka,
    brokers: infra.kafkaBrokers,
    group,
    async cleanup() {
      await sql.end({ timeout: 5 });
      await fixture.drop();
      const admin = kafka.admin();
      await admin.connect();
      await admin.deleteTopics({ topics: [`${group}.dlq`] }).catch(() => {});
      await admin.deleteGroups([group]).catch(() => {});
      await admin.disconnect();
    },
  };
}

/** Commits an OrderCreatedEvent for orderId to the fixture's outbox (as the kit's publish does). */
async function commitEvent(b: Bench, orderId: string): Promise<string> {
  const id = uuidv7();
  await transaction(b.sql, "test publish", async (tx) => {
    await flushOutbox(tx, [{
      id,
      aggregatetype: b.fixture.topic,
      aggregateid: orderId,
      type: Schema.typeName,
      payload: toBinary(Schema, create(Schema, { revision: 1, orderId })),
      traceparent: currentTraceparent() ?? null,
    }]);
  });
  return id;
}

/** A reaction that counts applications per order, failing the first `failFirst` attempts. */
function counting(
  b: Bench,
  failFirst = 0,
  seen?: (traceId: string) => void,
): Reaction<DescMessage> {
  let attempts = 0;
  return {
    topic: b.fixture.topic,
    schema: Schema,
    handle: async (e, tx) => {
      const ev = e as events.OrderCreatedEvent;
      await tx`insert into applied (order_id, n) values (${ev.orderId}, 1)
               on conflict (order_id) do update set n = applied.n + 1`;
      seen?.(activeIds().traceId);
      if (attempts++ < failFirst) throw new Error("failure after the write, before the commit");
    },
  } as Reaction<DescMessage>;
}

async function applied(b: Bench, orderId: string): Promise<number | undefined> {
  const [row] = await b.sql<{ n: number }[]>`select n from applied where order_id = ${orderId}`;
  return row?.n;
}

async function until(
  fn: () => Promise<boolean> | boolean,
  what: string,
  ms = 20_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function consumer(b: Bench, reaction: Reaction<DescMessage>): Promise<ConsumerRuntime> {
  const rt = await startConsumer({
    service: "kit-test",
    group: b.group,
    brokers: b.brokers,
    sql: b.sql,
    reactions: [reaction],
    maxAttempts: 3,
    initialBackoffMs: 20,
  });
  await rt.joined();
  return rt;
}

Deno.test("consumer: a duplicate delivery of an event changes nothing", opts, async () => {
  const b = await bench();
  let rt: ConsumerRuntime | undefined;
  try {
    rt = await consumer(b, counting(b));
    const records = await collect(b.brokers, [b.fixture.topic]);
    await commitEvent(b, "order-1");
    await until(async () => (await applied(b, "order-1")) === 1, "the first delivery");
    // Debezium's at-least-once: the very same record (same id header) arrives again.
    await until(() => records.records.length === 1, "the relayed record");
    const original = records.records[0]!;
    await records.stop();
    const producer = b.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({
      topic: b.fixture.topic,
      messages: [{
        key: original.key,
        value: Buffer.from(original.value!),
        headers: original.headers,
      }],
    });
    await producer.disconnect();
    await until(() => rt!.stats().duplicates === 1, "the duplicate to be recognised");
    assert.equal(await applied(b, "order-1"), 1);
    assert.equal(rt.stats().applied, 1);
  } finally {
    await rt?.stop();
    await b.cleanup();
  }
});

Deno.test(
  "consumer: a poison message goes to the dead-letter topic and the next one is processed",
  opts,
  async () => {
    const b = await bench();
    let rt: ConsumerRuntime | undefined;
    try {
      rt = await consumer(b, counting(b));
      const dlq = await collect(b.brokers, [rt.deadLetterTopic]);
      const producer = b.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      const poisonId = uuidv7();
      await producer.send({
        topic: b.fixture.topic,
        messages: [{
          key: "order-2",
          value: Buffer.from([0xff, 0xff, 0xff, 0x07]),
          headers: { id: poisonId },
        }],
      });
      await producer.disconnect();
      await commitEvent(b, "order-2"); // same key: same partition, right behind the poison
      await until(async () => (await applied(b, "order-2")) === 1, "the next message");
      await until(() => dlq.records.length === 1, "the dead letter");
      const dead = dlq.records[0]!;
      assert.equal(dead.headers.id, poisonId);
      assert.equal(dead.headers["dlq.topic"], b.fixture.topic);
      assert.match(
        dead.headers["dlq.error"] ?? "",
        /cannot decode stocklet\.events\.v1\.OrderCreatedEvent/,
      );
      assert.equal(rt.stats().deadLettered, 1);
      await dlq.stop();
    } finally {
      await rt?.stop();
      await b.cleanup();
    }
  },
);

Deno.test(
  "consumer: a handler that fails before its commit is retried and applied once",
  opts,
  async () => {
    const b = await bench();
    let rt: ConsumerRuntime | undefined;
    try {
      rt = await consumer(b, counting(b, 2));
      await commitEvent(b, "order-3");
      await until(async () => (await applied(b, "order-3")) !== undefined, "the event to apply");
      assert.equal(await applied(b, "order-3"), 1, "the failed attempts' writes were rolled back");
      assert.equal(rt.stats().retries, 2);
      assert.equal(rt.stats().applied, 1);
      const [inbox] = await b.sql<{ n: number }[]>`select count(*)::int as n from inbox`;
      assert.equal(inbox!.n, 1);
    } finally {
      await rt?.stop();
      await b.cleanup();
    }
  },
);

Deno.test(
  "tracing: the trace survives HTTP → outbox → Debezium → Kafka → consumer",
  opts,
  async () => {
    const b = await bench();
    let rt: ConsumerRuntime | undefined;
    const ac = new AbortController();
    try {
      const traces: string[] = [];
      rt = await consumer(b, counting(b, 0, (t) => traces.push(t)));
      // A service endpoint that writes an event, as every handler does.
      const server = Deno.serve({ port: 0, signal: ac.signal, onListen: () => {} }, async () => {
        await commitEvent(b, "order-4");
        return new Response("ok");
      });
      const traceId = crypto.randomUUID().replaceAll("-", "");
      const res = await fetch(`http://127.0.0.1:${server.addr.port}/`, {
        headers: { traceparent: `00-${traceId}-${"1".repeat(16)}-01` },
      });
      await res.text();
      await until(() => traces.length === 1, "the consumer to run");
      assert.notEqual(
        traces[0],
        "",
        "no active span in the consumer: run with OTEL_DENO=true (deno task test sets it)",
      );
      assert.equal(traces[0], traceId, "the consumer span continues the request's trace");
      // Relayed rows are purged in the background; nothing else needs them.
      assert.ok((await purgeOutbox(b.sql, new Date(Date.now() + 60_000))) >= 1);
      const [row] = await b.sql<{ n: number }[]>`select count(*)::int as n from outbox`;
      assert.equal(row!.n, 0);
      assert.equal(traceIdOf(`00-${traceId}-${"1".repeat(16)}-01`), traceId);
    } finally {
      ac.abort();
      await rt?.stop();
      await b.cleanup();
    }
  },
);

Deno.test(
  "consumer: a backlog is applied in batches, each event in its own trace, once",
  opts,
  async () => {
    const b = await bench();
    let rt: ConsumerRuntime | undefined;
    try {
      // Commit a backlog before the consumer exists, each event in a trace of its own.
      const traceOf = new Map<string, string>();
      for (let i = 0; i < 20; i++) {
        const traceId = crypto.randomUUID().replaceAll("-", "");
        traceOf.set(`backlog-${i}`, traceId);
        await withSpan("request", {
          parent: contextFromTraceparent(`00-${traceId}-${"2".repeat(16)}-01`),
        }, () => commitEvent(b, `backlog-${i}`));
      }
      const seen = new Map<string, string>();
      const reaction = counting(b);
      const inner = reaction.handle;
      rt = await consumer(b, {
        ...reaction,
        handle: async (e, tx, meta) => {
          await inner(e, tx, meta);
          seen.set((e as events.OrderCreatedEvent).orderId, activeIds().traceId);
        },
      });
      await until(() => rt!.stats().applied === 20, "the backlog to apply");
      const [row] = await b.sql<{ n: number; total: number }[]>`
      select count(*)::int as n, sum(n)::int as total from applied`;
      assert.deepEqual(row, { n: 20, total: 20 }, "every event applied exactly once");
      for (const [orderId, traceId] of traceOf) assert.equal(seen.get(orderId), traceId, orderId);
    } finally {
      await rt?.stop();
      await b.cleanup();
    }
  },
);
