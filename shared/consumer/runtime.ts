/**
 * The Kafka side of a service's consumers (kafkajs): one consumer group per service, every reaction's
 * topic subscribed, each message processed by {@linkcode processDelivery} inside a consumer span
 * whose parent is the producer's `traceparent` header. Offsets are committed only after a message's
 * transaction committed (or it was dead-lettered); partitions run concurrently, one message at a
 * time each, so per-key order holds.
 * @module
 */
import { type Consumer, type KafkaMessage, Partitioners, type Producer } from "kafkajs";
import { Buffer } from "node:buffer";
import { connectorLag } from "./lag.ts";
import type { Sql, Tx } from "../db.ts";
import { transaction } from "../db.ts";
import { ensureTopics, kafkaClient } from "../kafka.ts";
import { getLog } from "../logging.ts";
import type { Reaction } from "../reaction.ts";
import { consumerGroupOf, deadLetterTopicOf } from "../topology.ts";
import { contextFromTraceparent, SpanKind, withSpan } from "../tracing.ts";
import { type Delivery, type Outcome, processBatch, type ProcessDeps } from "./process.ts";

const log = getLog("consumer");

/** Options for {@linkcode startConsumer}. */
export interface ConsumerOptions {
  /** The service: names the inbox consumer and, by default, the group (`<service>-service`). */
  service: string;
  brokers: string[];
  sql: Sql;
  reactions: readonly Reaction[];
  /** Overrides the consumer group (and inbox consumer name). */
  group?: string;
  /** Partitions processed at once. @default 4 */
  concurrency?: number;
  /** Events applied in one transaction at most (a busy partition's backlog). @default 50 */
  maxBatch?: number;
  /** Attempts before a failing (non-transient) message is dead-lettered. @default 5 */
  maxAttempts?: number;
  /** @default 50 */
  initialBackoffMs?: number;
  /** @default 5000 */
  maxBackoffMs?: number;
  /** Create missing topics (subscribed and dead-letter) first. @default true */
  createTopics?: boolean;
}

/** Counters of a running consumer. */
export interface ConsumerStats {
  applied: number;
  duplicates: number;
  filtered: number;
  skipped: number;
  deadLettered: number;
  retries: number;
  /** Commit → handled lag of recent events, in ms (from the `created_at` header). */
  lagMs: readonly number[];
}

/** A running consumer group member. */
export interface ConsumerRuntime {
  readonly group: string;
  readonly deadLetterTopic: string;
  /** Resolves once the member joined its group (partitions assigned). */
  joined(): Promise<void>;
  /** Resolves while the member is in its group; rejects saying why not (for readiness). */
  healthy(): Promise<void>;
  stats(): ConsumerStats;
  /** Stops fetching, lets in-flight messages finish (or abort their retries), leaves the group. */
  stop(): Promise<void>;
}

/**
 * A kafkajs message as a {@linkcode Delivery}: key and headers as UTF-8 text (the first value of a
 * repeated header), the value as bytes. kafkajs hands out Node Buffers; their toString() is UTF-8.
 */
export function deliveryOf(topic: string, partition: number, m: KafkaMessage): Delivery {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    const first = Array.isArray(v) ? v[0] : v;
    if (first === undefined || first === null) continue;
    headers[k] = typeof first === "string" ? first : first.toString("utf8");
  }
  return {
    topic,
    partition,
    offset: m.offset,
    key: m.key ? m.key.toString("utf8") : null,
    value: m.value ? new Uint8Array(m.value.buffer, m.value.byteOffset, m.value.byteLength) : null,
    headers,
  };
}

async function deadLetterTo(
  producer: Producer,
  dlq: string,
  group: string,
  d: Delivery,
  error: string,
  attempts: number,
): Promise<void> {
  await producer.send({
    topic: dlq,
    messages: [{
      key: d.key,
      // kafkajs sizes records from Node Buffers; a bare Uint8Array is encoded wrongly.
      value: d.value ? Buffer.from(d.value.buffer, d.value.byteOffset, d.value.byteLength) : null,
      headers: {
        ...d.headers,
        "dlq.error": error.slice(0, 2000),
        "dlq.topic": d.topic,
        "dlq.partition": String(d.partition),
        "dlq.offset": d.offset,
        "dlq.consumer": group,
        "dlq.attempts": String(attempts),
        "dlq.at": new Date().toISOString(),
      },
    }],
  });
}

/**
 * Starts a service's consumer. Messages without a reaction are acknowledged; undecodable ones and
 * ones that keep failing go to `<group>.dlq` with the error in headers; the process never crashes
 * on bad input.
 */
export async function startConsumer(opts: ConsumerOptions): Promise<ConsumerRuntime> {
  const group = opts.group ?? consumerGroupOf(opts.service);
  const dlq = deadLetterTopicOf(group);
  const maxBatch = opts.maxBatch ?? 50;
  /** Multi-event transactions run one at a time (see ProcessDeps.exclusive). */
  let batchLock: Promise<void> = Promise.resolve();
  const reactions = new Map(opts.reactions.map((r) => [r.topic, r]));
  const kafka = kafkaClient(`${opts.service}-consumer`, opts.brokers);
  if (opts.createTopics ?? true) await ensureTopics(opts.brokers, [...reactions.keys(), dlq]);
  const stats = {
    applied: 0,
    duplicates: 0,
    filtered: 0,
    skipped: 0,
    deadLettered: 0,
    retries: 0,
    lagMs: [] as number[],
  };
  let stopping = false;
  let state: "joining" | "joined" | "crashed" = "joining";
  let joinedResolve!: () => void;
  const joinedPromise = new Promise<void>((r) => (joinedResolve = r));

  const producer = kafka.producer({
    allowAutoTopicCreation: true,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  let consumer: Consumer | undefined;
  const spanOf = <T>(d: Delivery, fn: () => Promise<T>): Promise<T> =>
    withSpan(`${d.topic} process`, {
      kind: SpanKind.CONSUMER,
      parent: contextFromTraceparent(d.headers.traceparent),
      attributes: {
        "messaging.system": "kafka",
        "messaging.operation.type": "process",
        "messaging.destination.name": d.topic,
        "messaging.destination.partition.id": String(d.partition),
        "messaging.kafka.offset": Number(d.offset),
        "messaging.kafka.message.key": d.key ?? "",
        "messaging.message.id": d.headers.id ?? "",
        "messaging.consumer.group.name": group,
      },
    }, fn);

  const depsFor = (heartbeat: () => Promise<void>): ProcessDeps => ({
    consumer: group,
    reactions,
    transaction: <T>(name: string, fn: (tx: Tx) => Promise<T>) => transaction(opts.sql, name, fn),
    deadLetter: (x, error, attempts) => deadLetterTo(producer, dlq, group, x, error, attempts),
    stopping: () => stopping,
    sleep: async (ms) => {
      await new Promise((r) => setTimeout(r, ms));
      await heartbeat().catch(() => {});
    },
    onRetry: (x, err, attempt, transient) => {
      stats.retries++;
      log.warn("retrying {topic}/{partition}@{offset} (attempt {attempt}, {kind}): {error}", {
        topic: x.topic,
        partition: x.partition,
        offset: x.offset,
        attempt,
        kind: transient ? "transient" : "failure",
        error: err,
      });
    },
    inSpan: spanOf,
    exclusive: (fn) => {
      const run = batchLock.then(fn);
      batchLock = run.then(() => {}, () => {});
      return run;
    },
    ...(opts.maxAttempts !== undefined ? { maxAttempts: opts.maxAttempts } : {}),
    ...(opts.initialBackoffMs !== undefined ? { initialBackoffMs: opts.initialBackoffMs } : {}),
    ...(opts.maxBackoffMs !== undefined ? { maxBackoffMs: opts.maxBackoffMs } : {}),
  });

  const count = (d: Delivery, outcome: Outcome): void => {
    switch (outcome.kind) {
      case "applied": {
        stats.applied++;
        const lag = connectorLag(d.headers.created_at);
        if (lag !== undefined) {
          stats.lagMs.push(lag);
          if (stats.lagMs.length > 10_000) stats.lagMs.splice(0, 5_000);
        }
        break;
      }
      case "duplicate":
        stats.duplicates++;
        log.debug("duplicate {id} on {topic}", { id: d.headers.id, topic: d.topic });
        break;
      case "filtered":
        stats.filtered++;
        break;
      case "skipped":
        stats.skipped++;
        break;
      case "dead-lettered":
        stats.deadLettered++;
        log.error("dead-lettered {topic}/{partition}@{offset} to {dlq}: {error}", {
          topic: d.topic,
          partition: d.partition,
          offset: d.offset,
          dlq,
          error: outcome.error,
        });
        break;
      case "aborted":
        break;
    }
  };

  const startMember = async (): Promise<void> => {
    const c = kafka.consumer({
      groupId: group,
      sessionTimeout: 10_000,
      rebalanceTimeout: 20_000,
      heartbeatInterval: 1_000,
      maxWaitTimeInMs: 250,
      allowAutoTopicCreation: false,
      retry: { initialRetryTime: 200, maxRetryTime: 3000, retries: 10 },
    });
    consumer = c;
    c.on(c.events.GROUP_JOIN, (e) => {
      log.debug("joined {group}", { group, assignment: e.payload.memberAssignment });
      state = "joined";
      joinedResolve();
    });
    c.on(c.events.CRASH, (e) => {
      state = "crashed";
      log.error("consumer {group} crashed (kafkajs restarts it: {restart}): {error}", {
        group,
        restart: e.payload.restart,
        error: e.payload.error,
      });
      // kafkajs gives up on non-retriable errors; a consumer that stops consuming would stall
      // every saga, so start a fresh member after a pause.
      if (!e.payload.restart && !stopping) {
        setTimeout(() => {
          if (stopping) return;
          c.disconnect().catch(() => {}).then(() => startMember()).catch((error) =>
            log.error("restarting consumer {group} failed: {error}", { group, error })
          );
        }, 1000);
      }
    });
    await c.connect();
    await c.subscribe({ topics: [...reactions.keys()], fromBeginning: true });
    await c.run({
      partitionsConsumedConcurrently: opts.concurrency ?? 4,
      // Offsets are resolved only after their transaction committed; committing them every
      // second (not after every batch) spares the broker. A redelivery after a crash is a no-op.
      autoCommit: true,
      autoCommitInterval: 1000,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        const deliveries = batch.messages.map((m) => deliveryOf(batch.topic, batch.partition, m));
        const deps = depsFor(heartbeat);
        for (let start = 0; start < deliveries.length; start += maxBatch) {
          if (!isRunning() || isStale()) return;
          const chunk = deliveries.slice(start, start + maxBatch);
          let outcomes: Outcome[];
          try {
            outcomes = await processBatch(chunk, deps);
          } catch (error) {
            // processBatch does not throw; anything here is a bug in the runtime itself. Leave
            // the offsets unresolved (the messages come back) rather than crash the group.
            log.error("processing {topic}/{partition} failed: {error}", {
              topic: batch.topic,
              partition: batch.partition,
              error,
            });
            throw error;
          }
          for (const [k, d] of chunk.entries()) {
            const outcome = outcomes[k]!;
            // Shutdown: an unresolved offset hands the message to the next owner.
            if (outcome.kind === "aborted") return;
            count(d, outcome);
            resolveOffset(d.offset);
          }
          await heartbeat();
        }
      },
    });
  };
  await startMember();

  return {
    group,
    deadLetterTopic: dlq,
    joined: () => joinedPromise,
    healthy: () =>
      state === "joined"
        ? Promise.resolve()
        : Promise.reject(new Error(`consumer group ${group} ${state}`)),
    stats: () => ({ ...stats, lagMs: [...stats.lagMs] }),
    async stop() {
      stopping = true;
      await consumer?.disconnect().catch((e) => log.warn("disconnect: {error}", { error: e }));
      await producer.disconnect().catch(() => {});
    },
  };
}
