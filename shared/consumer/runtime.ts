/**
 * A service's consumer: one Kafka consumer group per service, every reaction's topic subscribed.
 * Each fetch's records are applied as one round (see round.ts and apply.ts), each event inside a
 * consumer span whose parent is its producer's `traceparent`; offsets are committed only once an
 * outcome is final (member.ts). Per-key order holds: a partition's records are applied in order.
 * @module
 */
import { Partitioners } from "kafkajs";
import { type Sql, transaction, type Tx } from "../db.ts";
import { DEFAULT_REPLAY_HORIZON_MS, ensureTopics, kafkaClient, replayHorizonMs } from "../kafka.ts";
import { getLog } from "../logging.ts";
import { consumerGroupOf, deadLetterTopicOf } from "../topology.ts";
import { contextFromTraceparent, SpanKind, withSpan } from "../tracing.ts";
import { type ApplyDeps, applyRound } from "./apply.ts";
import { deadLetterSender } from "./dead_letter.ts";
import { type Delivery, deliveryOf } from "./delivery.ts";
import { startMember } from "./member.ts";
import type { Reaction } from "./reaction.ts";
import type { RetryPolicy } from "./retry.ts";
import { RoundCollector } from "./round.ts";
import { type ConsumerStats, StatsKeeper } from "./stats.ts";

const log = getLog("consumer");

/** Options for {@linkcode startConsumer}. */
export interface ConsumerOptions extends RetryPolicy {
  /** The service: names the inbox consumer and, by default, the group (`<service>-service`). */
  service: string;
  brokers: string[];
  sql: Sql;
  reactions: readonly Reaction[];
  /** Overrides the consumer group (and inbox consumer name). */
  group?: string;
  /** Events applied in one transaction at most (a busy backlog is cut into chunks). @default 200 */
  maxBatch?: number;
  /** Create missing topics (subscribed and dead-letter) first. @default true */
  createTopics?: boolean;
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
  /** How long a record of its topics may still be delivered: inbox rows older than that can go. */
  readonly replayHorizonMs: number;
  /** Stops fetching, lets in-flight messages finish (or abort their retries), leaves the group. */
  stop(): Promise<void>;
}

/** The consumer span of one event: a child of the span that published it. */
function consumerSpan<T>(group: string, d: Delivery, fn: () => Promise<T>): Promise<T> {
  return withSpan(`${d.topic} process`, {
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
}

/**
 * Starts a service's consumer. Messages without a reaction are acknowledged; undecodable ones and
 * ones that keep failing go to `<group>.dlq` with the error in headers; the process never crashes
 * on bad input.
 *
 * @example
 * ```ts
 * const consumer = await startConsumer({ service: "order", brokers, sql, reactions });
 * await consumer.joined();
 * ```
 */
export async function startConsumer(opts: ConsumerOptions): Promise<ConsumerRuntime> {
  const group = opts.group ?? consumerGroupOf(opts.service);
  const dlq = deadLetterTopicOf(group);
  const reactions = new Map(opts.reactions.map((r) => [r.topic, r]));
  const kafka = kafkaClient(`${opts.service}-consumer`, opts.brokers);
  if (opts.createTopics ?? true) await ensureTopics(opts.brokers, [...reactions.keys(), dlq]);
  const replayHorizon = await replayHorizonMs(opts.brokers, [...reactions.keys()]).catch(
    (error) => {
      log.warn("cannot read the topics' retention (assuming Kafka's defaults): {error}", {
        error,
      });
      return DEFAULT_REPLAY_HORIZON_MS;
    },
  );
  const stats = new StatsKeeper(group);
  let stopping = false;
  let heartbeat: () => Promise<void> = () => Promise.resolve();

  const producer = kafka.producer({
    allowAutoTopicCreation: true,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();

  const deps: ApplyDeps = {
    consumer: group,
    reactions,
    transaction: <T>(name: string, fn: (tx: Tx) => Promise<T>) => transaction(opts.sql, name, fn),
    deadLetter: deadLetterSender(producer, dlq, group),
    retry: opts,
    hooks: {
      stopping: () => stopping,
      sleep: async (ms) => {
        await new Promise((r) => setTimeout(r, ms));
        await heartbeat().catch(() => {});
      },
      onRetry: (d, err, attempt, transient) => {
        stats.retried(d.topic, transient);
        log.warn("retrying {topic}/{partition}@{offset} (attempt {attempt}, {kind}): {error}", {
          topic: d.topic,
          partition: d.partition,
          offset: d.offset,
          attempt,
          kind: transient ? "transient" : "failure",
          error: err,
        });
      },
    },
    inSpan: (d, fn) => consumerSpan(group, d, fn),
  };
  const rounds = new RoundCollector((ds) => {
    stats.round(ds.length);
    return applyRound(ds, deps);
  }, opts.maxBatch ?? 200);

  const member = await startMember({
    kafka,
    group,
    topics: [...reactions.keys()],
    async eachBatch({ batch, resolveOffset, heartbeat: beat, isRunning, isStale }) {
      if (!isRunning() || isStale()) return;
      heartbeat = beat;
      const deliveries = batch.messages.map((m) => deliveryOf(batch.topic, batch.partition, m));
      const outcomes = await rounds.submit(deliveries);
      const at = Date.now();
      for (const [k, d] of deliveries.entries()) {
        const o = outcomes[k]!;
        // Shutdown: an unresolved offset hands the message (and the rest) to the next owner.
        if (o.kind === "aborted") break;
        stats.count(d, o, at);
        if (o.kind === "dead-lettered") {
          log.error("dead-lettered {topic}/{partition}@{offset} to {dlq}: {error}", {
            topic: d.topic,
            partition: d.partition,
            offset: d.offset,
            dlq,
            error: o.error,
          });
        }
        resolveOffset(d.offset);
      }
      await beat();
    },
  });

  return {
    group,
    deadLetterTopic: dlq,
    joined: () => member.joined(),
    healthy: () => member.healthy(),
    stats: () => stats.snapshot(),
    replayHorizonMs: replayHorizon,
    async stop() {
      stopping = true;
      await member.stop();
      await producer.disconnect().catch(() => {});
    },
  };
}
