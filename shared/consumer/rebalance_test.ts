/**
 * Two members of one consumer group (two replicas of a service, sharing its database and inbox)
 * on a 3-partition topic, against the real Kafka and Postgres: a member joining mid-stream and
 * one leaving take partitions from each other while events flow, and still every event is applied
 * exactly once, each key's events in order, and the group ends with every offset committed.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { create, type DescMessage, toBinary } from "@bufbuild/protobuf";
import { Kafka, logLevel, Partitioners } from "kafkajs";
import { createTestDb } from "@stocklet/testing/db";
import { testInfra } from "@stocklet/testing/infra";
import { ensureTopics } from "../kafka.ts";
import { uuidv7 } from "../ids.ts";
import { events } from "../proto.ts";
import type { Reaction } from "./reaction.ts";
import { type ConsumerRuntime, startConsumer } from "./runtime.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const Schema = events.OrderCreatedEventSchema;
const KEYS = 30;

async function until(fn: () => Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

Deno.test(
  "consumer group: members joining and leaving mid-stream apply each event once, in order per key",
  opts,
  async () => {
    const infra = await testInfra();
    const db = await createTestDb("order");
    const suffix = crypto.randomUUID().slice(0, 8);
    const topic = `it-rebalance-${suffix}`;
    const group = `it-rebalance-${suffix}`;
    await ensureTopics(infra.kafkaBrokers, [topic], 3);
    // Each event carries its key's sequence number (revision): the reaction checks it follows the
    // last one applied for that key, in the same transaction as the inbox claim.
    await db.sql`
    create table applied (key text, seq integer, primary key (key, seq));
    create table last_seq (key text primary key, seq integer not null);
    create table out_of_order (key text, seq integer, after integer)`.simple();
    const reaction = {
      topic,
      schema: Schema,
      handle: async (e, tx) => {
        const ev = e as events.OrderCreatedEvent;
        const seq = ev.revision;
        await tx`insert into applied (key, seq) values (${ev.orderId}, ${seq})`;
        const [prev] = await tx<Array<{ seq: number }>>`
        select seq from last_seq where key = ${ev.orderId} for update`;
        if ((prev?.seq ?? 0) !== seq - 1) {
          await tx`insert into out_of_order values (${ev.orderId}, ${seq}, ${prev?.seq ?? 0})`;
        }
        await tx`insert into last_seq values (${ev.orderId}, ${seq})
        on conflict (key) do update set seq = excluded.seq`;
        // A little work per event, so rounds are in flight when the group rebalances.
        await new Promise((r) => setTimeout(r, 3));
      },
    } as Reaction<DescMessage>;
    const member = () =>
      startConsumer({
        service: "kit-test", // one service, one group: both replicas share the inbox (keyed by group)
        group,
        brokers: infra.kafkaBrokers,
        sql: db.sql,
        reactions: [reaction],
      });
    const kafka = new Kafka({
      clientId: "rebalance-test",
      brokers: infra.kafkaBrokers,
      logLevel: logLevel.NOTHING,
    });
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    let produced = 0;
    const seqs = new Map<string, number>();
    const keys = Array.from({ length: KEYS }, (_, i) => `key-${suffix}-${i}`);
    /** Sends `n` events round the keys, each key's next sequence number. */
    const produce = async (n: number) => {
      const messages = Array.from({ length: n }, (_, i) => {
        const key = keys[(produced + i) % KEYS]!;
        const seq = (seqs.get(key) ?? 0) + 1;
        seqs.set(key, seq);
        return {
          key,
          value: Buffer.from(toBinary(Schema, create(Schema, { revision: seq, orderId: key }))),
          headers: { id: uuidv7(), type: Schema.typeName },
        };
      });
      await producer.send({ topic, messages });
      produced += n;
    };
    const members: ConsumerRuntime[] = [];
    try {
      const a = await member();
      members.push(a);
      await a.joined();
      await produce(300);
      // B joins while A works through the backlog: A loses partitions in the middle of rounds.
      const b = await member();
      members.push(b);
      await b.joined();
      await produce(300);
      await until(async () => {
        const [row] = await db.sql<Array<{ n: number }>>`select count(*)::int as n from applied`;
        return row!.n >= 450;
      }, "most of the events");
      // A leaves mid-stream: B takes every partition.
      const stopping = a.stop();
      await produce(300);
      await stopping;
      members.splice(members.indexOf(a), 1);
      await until(async () => {
        const [row] = await db.sql<Array<{ n: number }>>`select count(*)::int as n from applied`;
        return row!.n >= produced;
      }, "every event");
      const [counts] = await db.sql<Array<{ n: number; keys: number }>>`
      select count(*)::int as n, count(distinct key)::int as keys from applied`;
      assert.deepEqual(counts, { n: produced, keys: KEYS }, "every event applied, none twice");
      const late = await db.sql`select * from out_of_order`;
      assert.deepEqual([...late], [], "each key's events applied in order");
      const [inbox] = await db.sql<Array<{ n: number }>>`
      select count(*)::int as n from inbox where consumer = ${group}`;
      assert.equal(inbox!.n, produced, "one inbox row per event");
      const stats = [a, b].map((m) => m.stats());
      const applied = stats.reduce((n, s) => n + s.applied, 0);
      const duplicates = stats.reduce((n, s) => n + s.duplicates, 0);
      assert.equal(applied, produced);
      console.log(
        `rebalance: ${produced} events over 3 partitions, applied ${stats.map((s) => s.applied)} ` +
          `by A and B; ${duplicates} redelivered and skipped by the inbox`,
      );
      // Nothing left behind: the group committed every partition up to its end.
      await until(
        async () => {
          const admin = kafka.admin();
          await admin.connect();
          try {
            const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
            const ends = await admin.fetchTopicOffsets(topic);
            return ends.every((e) =>
              committed!.partitions.find((p) => p.partition === e.partition)?.offset === e.high
            );
          } finally {
            await admin.disconnect();
          }
        },
        "the group's offsets at the end",
        20_000,
      );
    } finally {
      for (const m of members) await m.stop();
      await producer.disconnect();
      const admin = kafka.admin();
      await admin.connect();
      await admin.deleteGroups([group]).catch(() => {});
      await admin.deleteTopics({ topics: [topic, `${group}.dlq`] }).catch(() => {});
      await admin.disconnect();
      await db.drop();
    }
  },
);
