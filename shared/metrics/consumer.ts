/**
 * A consumer group's instruments, recorded by the consumer's StatsKeeper as it counts outcomes:
 *
 * - `messaging.client.consumed.messages` ({message}): every delivery handled, by topic and
 *   `stocklet.outcome` (`applied`, `duplicate`, `filtered`, `skipped`, `dead_lettered`);
 * - `messaging.process.duration` (s): an applied event's processing, from its arrival in this
 *   process to the commit of the transaction that applied it;
 * - `stocklet.event.hop.duration` (s): the rest of its hop by `stocklet.hop.stage`: `relay` (outbox
 *   commit → Debezium's record in Kafka: the relay's commit → Kafka delay), `delivery` (Kafka →
 *   this process) and `total` (outbox commit → applied here);
 * - `stocklet.consumer.retries` ({retry}) by `stocklet.retry.kind` (`transient`, `failure`);
 * - `stocklet.consumer.batch.size` ({message}): events applied per round (one transaction).
 *
 * Every measurement carries `messaging.system` (kafka) and `messaging.consumer.group.name`; per
 * event ones `messaging.destination.name` (the topic). Lag per partition is in `kafka_lag.ts`.
 * @module
 */
import type { Attributes } from "@opentelemetry/api";
import { LATENCY_BUCKETS, meter } from "./meter.ts";

const consumed = meter.createCounter("messaging.client.consumed.messages", {
  description: "Messages handled by a consumer group, by topic and outcome",
  unit: "{message}",
});
const processing = meter.createHistogram("messaging.process.duration", {
  description: "Applying an event: arrival in the process → its transaction committed",
  unit: "s",
  advice: { explicitBucketBoundaries: [...LATENCY_BUCKETS] },
});
const hop = meter.createHistogram("stocklet.event.hop.duration", {
  description: "An event's hop by stage: relay (outbox commit → Kafka), delivery, total",
  unit: "s",
  advice: { explicitBucketBoundaries: [...LATENCY_BUCKETS] },
});
const retries = meter.createCounter("stocklet.consumer.retries", {
  description: "Deliveries retried, by kind (transient: infrastructure; failure: the reaction)",
  unit: "{retry}",
});
const batchSize = meter.createHistogram("stocklet.consumer.batch.size", {
  description: "Events applied together in one round (one transaction)",
  unit: "{message}",
  advice: { explicitBucketBoundaries: [1, 2, 5, 10, 20, 50, 100, 200, 500] },
});

/** What a delivery came to, as the instruments name it. */
export type OutcomeName = "applied" | "duplicate" | "filtered" | "skipped" | "dead_lettered";

/** One event's hop (ms), as the consumer measured it. */
export interface HopTimes {
  relayMs: number;
  deliverMs: number;
  applyMs: number;
}

/** The instruments of one consumer group, with its attribute sets made once. */
export class ConsumerMeter {
  readonly #base: Attributes;
  readonly #perTopic = new Map<string, Record<string, Attributes>>();

  constructor(readonly group: string) {
    this.#base = { "messaging.system": "kafka", "messaging.consumer.group.name": group };
  }

  #attrs(topic: string, key: string, extra: Attributes = {}): Attributes {
    let sets = this.#perTopic.get(topic);
    if (!sets) this.#perTopic.set(topic, sets = {});
    return sets[key] ??= { ...this.#base, "messaging.destination.name": topic, ...extra };
  }

  /** Counts a delivery's outcome. */
  outcome(topic: string, outcome: OutcomeName): void {
    consumed.add(1, this.#attrs(topic, outcome, { "stocklet.outcome": outcome }));
  }

  /**
   * Records an applied event's hop: its total (outbox commit → applied, when the event said when it
   * was committed) and its stages (when Kafka's timestamp and the arrival are known too).
   */
  applied(topic: string, totalMs: number | undefined, t: HopTimes | undefined): void {
    if (totalMs !== undefined) {
      hop.record(totalMs / 1000, this.#attrs(topic, "total", { "stocklet.hop.stage": "total" }));
    }
    if (!t) return;
    processing.record(t.applyMs / 1000, this.#attrs(topic, "topic"));
    hop.record(t.relayMs / 1000, this.#attrs(topic, "relay", { "stocklet.hop.stage": "relay" }));
    hop.record(
      t.deliverMs / 1000,
      this.#attrs(topic, "delivery", { "stocklet.hop.stage": "delivery" }),
    );
  }

  /** Counts a retry. */
  retried(topic: string, transient: boolean): void {
    const kind = transient ? "transient" : "failure";
    retries.add(1, this.#attrs(topic, kind, { "stocklet.retry.kind": kind }));
  }

  /** Records a round's size. */
  round(size: number): void {
    batchSize.record(size, this.#base);
  }
}
