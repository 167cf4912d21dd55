/**
 * Kafka helpers for end-to-end tests: read a topic's records, publish records again unchanged, and
 * wait until consumer groups have caught up with every topic they read.
 * @module
 */
import "@stocklet/shared/kafkajs_timer_fix";
import { type IHeaders, Kafka, logLevel, Partitioners } from "kafkajs";

/** A record as read. */
export interface RawRecord {
  topic: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
}

type Buffer = Uint8Array & { toString(enc?: string): string };

/** A quiet kafkajs client. */
export function testKafka(brokers: string[]): Kafka {
  return new Kafka({ clientId: "stocklet-tests", brokers, logLevel: logLevel.NOTHING });
}

/** Every record currently in the topics (read to their end offsets with a throwaway group). */
export async function readAll(kafka: Kafka, topics: string[]): Promise<RawRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<string, number>();
  let total = 0;
  for (const t of topics) {
    for (const p of await admin.fetchTopicOffsets(t)) {
      const n = Number(p.high) - Number(p.low);
      ends.set(`${t}/${p.partition}`, Number(p.high));
      total += n;
    }
  }
  await admin.disconnect();
  const records: RawRecord[] = [];
  if (total === 0) return records;
  const consumer = kafka.consumer({
    groupId: `tests-read-${crypto.randomUUID()}`,
    maxWaitTimeInMs: 100,
  });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  const done = new Promise<void>((resolve) => {
    const remaining = new Set([...ends].filter(([, end]) => end > 0).map(([k]) => k));
    consumer.run({
      eachMessage: ({ topic, partition, message }) => {
        records.push({
          topic,
          key: message.key as Buffer | null,
          value: message.value as Buffer | null,
          headers: message.headers ?? {},
        });
        if (Number(message.offset) + 1 >= ends.get(`${topic}/${partition}`)!) {
          remaining.delete(`${topic}/${partition}`);
        }
        if (remaining.size === 0) resolve();
        return Promise.resolve();
      },
    });
  });
  await done;
  await consumer.disconnect();
  return records;
}

/** Publishes the records again, byte for byte (key, value and headers). */
export async function republish(kafka: Kafka, records: RawRecord[]): Promise<void> {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const byTopic = new Map<string, RawRecord[]>();
  for (const r of records) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r]);
  for (const [topic, rs] of byTopic) {
    await producer.send({
      topic,
      messages: rs.map((r) => ({
        key: r.key as never,
        value: r.value as never,
        // A NULL outbox column arrives as a header without a value; kafkajs cannot send those.
        headers: Object.fromEntries(
          Object.entries(r.headers).filter(([, v]) => v !== null && v !== undefined),
        ) as IHeaders,
      })),
    });
  }
  await producer.disconnect();
}

/** Waits until every group's committed offsets reach the end of every topic it consumes. */
export async function waitCaughtUp(
  kafka: Kafka,
  groups: string[],
  timeoutMs = 30_000,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let behind = 0;
      for (const groupId of groups) {
        const committed = await admin.fetchOffsets({ groupId });
        for (const { topic, partitions } of committed) {
          const ends = new Map(
            (await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]),
          );
          for (const p of partitions) {
            const at = Number(p.offset);
            const end = ends.get(p.partition) ?? 0;
            if (end > 0 && at < end) behind += end - Math.max(at, 0);
          }
        }
      }
      if (behind === 0) return;
      if (Date.now() > deadline) throw new Error(`consumer groups still ${behind} records behind`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await admin.disconnect();
  }
}
