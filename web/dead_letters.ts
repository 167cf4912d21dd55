/**
 * The admin console's view of the dead-letter topics: a reader (its own consumer group) copies
 * every record of every `<group>.dlq` topic into the read model with the `dlq.*` headers the
 * consumer runtime wrote (which topic, partition and offset it came from, which consumer gave up,
 * after how many attempts, and the error). Dead-letter topics that appear later are picked up
 * within a refresh interval, or at once when an admin opens the page. It never consumes a saga topic, so a poison message here can harm
 * nothing.
 * @module
 */
import type { Consumer } from "kafkajs";
import { deliveryOf } from "@stocklet/shared/consumer";
import type { Sql } from "@stocklet/shared/db";
import { kafkaClient } from "@stocklet/shared/kafka";
import { getLog } from "@stocklet/shared/logging";
import type { Delivery } from "@stocklet/shared/consumer";
import { type DeadLetter, recordDeadLetter } from "./store.ts";

const log = getLog("dead-letters");

/** A dead-letter topic's name ends so (shared/topology's `deadLetterTopicOf`). */
export const DEAD_LETTER_SUFFIX = ".dlq";

/** The reader's consumer group. */
export const DEAD_LETTER_READER_GROUP = "web-dead-letter-reader";

/** A dead-letter record as the read model keeps it. */
export function deadLetterOf(d: Delivery): DeadLetter {
  const h = d.headers;
  const attempts = Number(h["dlq.attempts"]);
  const at = h["dlq.at"] ? new Date(h["dlq.at"]) : undefined;
  return {
    topic: d.topic,
    partition: d.partition,
    offset: d.offset,
    sourceTopic: h["dlq.topic"] ?? null,
    consumer: h["dlq.consumer"] ?? null,
    error: h["dlq.error"] ?? null,
    attempts: Number.isInteger(attempts) ? attempts : null,
    failedAt: at && !Number.isNaN(at.getTime()) ? at : null,
    key: d.key,
    eventId: h.id ?? null,
    eventType: h.type ?? null,
    payload: d.value,
    headers: h,
  };
}

/** Options of {@linkcode startDeadLetterReader}. */
export interface DeadLetterReaderOptions {
  brokers: string[];
  sql: Sql;
  /** How often to look for new dead-letter topics (ms). @default 30_000 */
  refreshMs?: number;
}

/** A running reader. */
export interface DeadLetterReader {
  /** The dead-letter topics read now. */
  topics(): readonly string[];
  /** Looks for new dead-letter topics now (and starts reading them). */
  refresh(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the reader (in the background: Kafka being away only delays it). */
export function startDeadLetterReader(opts: DeadLetterReaderOptions): DeadLetterReader {
  const kafka = kafkaClient("web-dead-letters", opts.brokers);
  const admin = kafka.admin();
  let consumer: Consumer | undefined;
  let topics: string[] = [];
  let stopping = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const listDeadLetterTopics = async (): Promise<string[]> =>
    (await admin.listTopics()).filter((t) => t.endsWith(DEAD_LETTER_SUFFIX)).sort();

  const run = async (wanted: string[]): Promise<void> => {
    await consumer?.disconnect().catch(() => {});
    consumer = undefined;
    topics = wanted;
    if (!wanted.length || stopping) return;
    const c = kafka.consumer({
      groupId: DEAD_LETTER_READER_GROUP,
      sessionTimeout: 10_000,
      heartbeatInterval: 3_000,
      maxWaitTimeInMs: 1_000,
      allowAutoTopicCreation: false,
    });
    consumer = c;
    await c.connect();
    await c.subscribe({ topics: wanted, fromBeginning: true });
    await c.run({
      eachMessage: async ({ topic, partition, message }) => {
        // Retried by kafkajs (the offset stays uncommitted) while the database is away.
        await recordDeadLetter(opts.sql, deadLetterOf(deliveryOf(topic, partition, message)));
      },
    });
    log.info("reading dead letters of {topics}", { topics: wanted });
  };

  let running: Promise<void> | undefined;
  const check = async (): Promise<void> => {
    if (stopping) return;
    await admin.connect();
    const wanted = await listDeadLetterTopics();
    if (wanted.join() !== topics.join() || !consumer) await run(wanted);
  };
  /** One check at a time (a page view and the timer may ask together). */
  const checkOnce = (): Promise<void> => running ??= check().finally(() => running = undefined);

  const refresh = async (): Promise<void> => {
    if (stopping) return;
    clearTimeout(timer);
    try {
      await checkOnce();
    } catch (error) {
      log.warn("dead-letter reader: {error}", { error });
    } finally {
      if (!stopping) timer = setTimeout(refresh, opts.refreshMs ?? 30_000);
    }
  };

  const started = refresh();

  return {
    topics: () => topics,
    refresh,
    async stop() {
      stopping = true;
      clearTimeout(timer);
      await started.catch(() => {});
      await consumer?.disconnect().catch(() => {});
      await admin.disconnect().catch(() => {});
    },
  };
}
