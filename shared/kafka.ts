/**
 * Kafka plumbing shared by the consumer runtime, service-init and tests: a client whose logs go
 * through our logger, and idempotent topic creation.
 * @module
 */
import "./kafkajs_timer_fix.ts";
import { type Admin, ConfigResourceTypes, Kafka, type logCreator, logLevel } from "kafkajs";
import { getLog } from "./logging.ts";

const log = getLog("kafka");

const toLogger: logCreator = () => ({ namespace, level, log: entry }) => {
  const { message, ...rest } = entry;
  const props = { namespace, ...rest } as Record<string, unknown>;
  delete props.timestamp;
  delete props.logger;
  if (level === logLevel.ERROR) log.error(`${message}`, props);
  else if (level === logLevel.WARN) log.warn(`${message}`, props);
  else if (level === logLevel.INFO) log.info(`${message}`, props);
  else log.debug(`${message}`, props);
};

/** A kafkajs client for the brokers, logging through `stocklet.kafka` at WARN and above. */
export function kafkaClient(clientId: string, brokers: string[]): Kafka {
  return new Kafka({
    clientId,
    brokers,
    logLevel: logLevel.WARN,
    logCreator: toLogger,
    connectionTimeout: 3000,
    retry: { initialRetryTime: 100, maxRetryTime: 2000, retries: 8 },
  });
}

/**
 * Partitions of new topics: `STOCKLET_TOPIC_PARTITIONS`, default 1. One partition per topic lets a
 * consumer apply a topic's backlog in one transaction, which on a small machine beats spreading it
 * (measured: peak 100 → 120 orders/s on 2 cores); raise it to run several instances of a service.
 */
export function topicPartitions(): number {
  const raw = Deno.env.get("STOCKLET_TOPIC_PARTITIONS");
  if (raw === undefined || raw === "") return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`STOCKLET_TOPIC_PARTITIONS=${raw} is not a positive integer`);
  }
  return n;
}

/** What {@linkcode ensureTopics} found and did. */
export interface TopicsResult {
  created: string[];
  existing: string[];
}

/**
 * Creates the topics that do not exist yet, with the brokers' `default.replication.factor` (1
 * on one broker, the cluster's on Kubernetes, where a topic a consumer creates before Strimzi's
 * `KafkaTopic` must not end up less replicated than declared); existing ones are left as they
 * are (their partition count included).
 *
 * @example
 * ```ts
 * await ensureTopics(["127.0.0.1:39092"], ["order.state.created"], 3);
 * ```
 */
export async function ensureTopics(
  brokers: string[],
  topics: readonly string[],
  partitions: number = topicPartitions(),
): Promise<TopicsResult> {
  const kafka = new Kafka({
    clientId: "stocklet-topics",
    brokers,
    // Errors are thrown (and the transient ones retried below), not logged.
    logLevel: logLevel.NOTHING,
    connectionTimeout: 5000,
    retry: { retries: 5 },
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const have = new Set(await admin.listTopics());
    const wanted = [...new Set(topics)].sort();
    const missing = wanted.filter((t) => !have.has(t));
    if (missing.length) {
      try {
        // kafkajs' own waitForLeaders gives up on UNKNOWN_TOPIC_OR_PARTITION, which a broker
        // answers for a moment after creating many topics at once: wait below instead.
        await admin.createTopics({
          waitForLeaders: false,
          topics: missing.map((topic) => ({
            topic,
            numPartitions: partitions,
            // The brokers' default (KIP-464, Kafka 2.4 and later).
            replicationFactor: -1,
          })),
        });
      } catch (e) {
        // Created meanwhile by someone else: fine.
        const errors = (e as { errors?: { type?: string }[] }).errors ?? [];
        if (!errors.length || !errors.every((x) => x.type === "TOPIC_ALREADY_EXISTS")) throw e;
      }
      await waitForLeaders(admin, missing);
    }
    return { created: missing, existing: wanted.filter((t) => have.has(t)) };
  } finally {
    await admin.disconnect();
  }
}

async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      const { topics: md } = await admin.fetchTopicMetadata({ topics });
      const ready = md.length === topics.length &&
        md.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0));
      if (ready) return;
    } catch (e) {
      const type = (e as { type?: string }).type;
      const transient = type === "UNKNOWN_TOPIC_OR_PARTITION" || type === "LEADER_NOT_AVAILABLE";
      if (!transient || performance.now() >= deadline) throw e;
    }
    if (performance.now() >= deadline) {
      throw new Error(`topics ${topics.join(", ")} have no leader after ${timeoutMs / 1000} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Kafka's defaults: `retention.ms` and `segment.ms` (7 days each). */
export const DEFAULT_RETENTION_MS = 7 * 24 * 3600 * 1000;
const DEFAULT_SEGMENT_MS = 7 * 24 * 3600 * 1000;
/** How often the broker looks for segments to delete (`log.retention.check.interval.ms`). */
const RETENTION_CHECK_MS = 5 * 60 * 1000;

/**
 * How long after its timestamp a record of a topic may still be delivered. Kafka deletes whole
 * segments, once the newest record of a segment is older than `retention.ms`; a segment spans up
 * to `segment.ms` of records, and the broker looks every few minutes. So a record can be read up to
 * retention + segment + check interval after it was written. Infinity when the topic keeps records
 * forever (`retention.ms` -1).
 *
 * @example
 * ```ts
 * replayHorizonOf(7 * 86_400_000, 7 * 86_400_000); // 14 days and 5 minutes
 * ```
 */
export function replayHorizonOf(retentionMs: number, segmentMs: number): number {
  if (retentionMs < 0) return Infinity;
  return retentionMs + Math.max(0, segmentMs) + RETENTION_CHECK_MS;
}

/** The replay horizon of topics with Kafka's defaults (14 days and 5 minutes). */
export const DEFAULT_REPLAY_HORIZON_MS: number = replayHorizonOf(
  DEFAULT_RETENTION_MS,
  DEFAULT_SEGMENT_MS,
);

/**
 * The longest {@linkcode replayHorizonOf} among topics: after that long, no record of theirs can
 * be delivered again, so an inbox may forget the events it applied.
 */
export async function replayHorizonMs(
  brokers: string[],
  topics: readonly string[],
): Promise<number> {
  const kafka = new Kafka({ clientId: "stocklet-topics", brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: topics.map((name) => ({
        type: ConfigResourceTypes.TOPIC,
        name,
        configNames: ["retention.ms", "segment.ms"],
      })),
    });
    let longest = 0;
    for (const r of resources) {
      const value = (name: string, fallback: number) =>
        Number(r.configEntries.find((e) => e.configName === name)?.configValue ?? fallback);
      longest = Math.max(
        longest,
        replayHorizonOf(
          value("retention.ms", DEFAULT_RETENTION_MS),
          value("segment.ms", DEFAULT_SEGMENT_MS),
        ),
      );
    }
    return longest || DEFAULT_REPLAY_HORIZON_MS;
  } finally {
    await admin.disconnect();
  }
}
