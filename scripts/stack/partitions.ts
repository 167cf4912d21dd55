/**
 * Raising the partition count of the saga's topics to `STOCKLET_TOPIC_PARTITIONS` on a stack whose
 * topics were created with fewer (service-init creates missing topics with that count but leaves
 * existing ones alone). Kafka can add partitions but never remove them: a topic with more keeps
 * them (`deno task infra reset` starts over). Adding partitions moves keys to other partitions, so
 * it is done only while the stack's processes are stopped, before any order is in flight.
 * @module
 */
import { Kafka, logLevel } from "kafkajs";
import { topicPartitions } from "@stocklet/shared/kafka";
import { TOPICS } from "@stocklet/shared/topics";

/** What {@linkcode raisePartitions} found and did. */
export interface PartitionsReport {
  /** Topics raised to the count, with the count they had. */
  raised: Array<{ topic: string; from: number }>;
  /** Topics that have more partitions than asked for (kept). */
  more: Array<{ topic: string; count: number }>;
}

/**
 * Gives every existing topic of the event catalogue at least `count` partitions.
 *
 * @example
 * ```ts
 * const r = await raisePartitions(["127.0.0.1:39192"], 3);
 * r.raised; // [{ topic: "order.state.created", from: 1 }, …]
 * ```
 */
export async function raisePartitions(
  brokers: string[],
  count: number = topicPartitions(),
  topics: readonly string[] = [...TOPICS.keys()],
): Promise<PartitionsReport> {
  const kafka = new Kafka({ clientId: "stocklet-partitions", brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const wanted = topics.filter((t) => existing.has(t));
    const report: PartitionsReport = { raised: [], more: [] };
    if (!wanted.length) return report;
    const { topics: md } = await admin.fetchTopicMetadata({ topics: wanted });
    for (const t of md) {
      const have = t.partitions.length;
      if (have < count) report.raised.push({ topic: t.name, from: have });
      else if (have > count) report.more.push({ topic: t.name, count: have });
    }
    if (report.raised.length) {
      await admin.createPartitions({
        topicPartitions: report.raised.map((r) => ({ topic: r.topic, count })),
      });
    }
    return report;
  } finally {
    await admin.disconnect();
  }
}

/** One line saying what {@linkcode raisePartitions} did (undefined when nothing). */
export function describePartitions(r: PartitionsReport, count: number): string | undefined {
  const parts: string[] = [];
  if (r.raised.length) parts.push(`raised ${r.raised.length} topics to ${count} partitions`);
  if (r.more.length) {
    parts.push(
      `${r.more.length} topics have more than ${count} partitions (${
        r.more[0]!.count
      }; kept: Kafka cannot remove partitions, \`deno task infra reset\` starts over)`,
    );
  }
  return parts.length ? `topics: ${parts.join("; ")}` : undefined;
}
