/**
 * Kafka plumbing shared by the consumer runtime, service-init and tests: a client whose logs go
 * through our logger, and idempotent topic creation.
 * @module
 */
import { Kafka, type logCreator, logLevel } from "kafkajs";
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

/** Partitions per topic (`STOCKLET_TOPIC_PARTITIONS`, default 3). */
export function defaultPartitions(): number {
  const raw = Deno.env.get("STOCKLET_TOPIC_PARTITIONS");
  const n = raw ? Number(raw) : 3;
  return Number.isInteger(n) && n > 0 ? n : 3;
}

/** Creates the topics that do not exist yet; existing ones are left alone. */
export async function ensureTopics(
  kafka: Kafka,
  topics: readonly string[],
  partitions: number = defaultPartitions(),
): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = [...new Set(topics)].filter((t) => !existing.has(t));
    if (missing.length) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({
          topic,
          numPartitions: partitions,
          replicationFactor: 1,
        })),
      });
    }
    return missing;
  } finally {
    await admin.disconnect();
  }
}
