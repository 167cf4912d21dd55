/**
 * A consumer group's instruments, recorded by the consumer's StatsKeeper as it counts outcomes:
 *
 * - `messaging.client.consumed.messages` ({message}): every delivery handled, by topic and
 *   `stocklet.outcome` (`applied`, `duplicate`, `filtered`, `skipped`, `dead_lettered`);
 * - `stocklet.consumer.retries` ({retry}) by topic and `stocklet.retry.kind` (`transient`: the
 *   infrastructure failed, `failure`: the reaction did);
 * - per applied event: `stocklet.event.hop.duration` (s, by topic: outbox commit → applied here,
 *   the whole hop) and its stages, per service: `stocklet.event.relay.duration` (s, outbox commit
 *   → Debezium's record in Kafka: the relay's commit → Kafka delay),
 *   `stocklet.event.delivery.duration` (s, Kafka → this process) and `messaging.process.duration`
 *   (s, arrival → the commit of the transaction that applied it);
 * - `stocklet.consumer.batch.size` ({message}): events applied per round (one transaction).
 *
 * Counters carry `messaging.system` (kafka), `messaging.consumer.group.name` and
 * `messaging.destination.name`. The per-event histograms carry the topic at most: an attribute
 * costs about 300 ns per measurement, four of them per event added up to more than the rest of
 * the consumer's bookkeeping, and the group is the service's own (its `service.name`). Lag is in
 * `kafka_lag.ts`.
 * @module
 */
import type { Attributes } from "@opentelemetry/api";
import { LATENCY_BUCKETS, meter, SummedCounter } from "./meter.ts";

const consumed = new SummedCounter("messaging.client.consumed.messages", {
  description: "Messages handled by a consumer group, by topic and outcome",
  unit: "{message}",
});
const retries = new SummedCounter("stocklet.consumer.retries", {
  description: "Deliveries retried, by kind (transient: infrastructure; failure: the reaction)",
  unit: "{retry}",
});
const latency = { advice: { explicitBucketBoundaries: [...LATENCY_BUCKETS] } };
const processing = meter.createHistogram("messaging.process.duration", {
  description: "Applying an event: arrival in the process → its transaction committed",
  unit: "s",
  ...latency,
});
const hop = meter.createHistogram("stocklet.event.hop.duration", {
  description: "An event's whole hop: outbox commit → applied by this consumer",
  unit: "s",
  ...latency,
});
const relay = meter.createHistogram("stocklet.event.relay.duration", {
  description: "An event's relay: outbox commit → its record in Kafka (Debezium)",
  unit: "s",
  ...latency,
});
const delivery = meter.createHistogram("stocklet.event.delivery.duration", {
  description: "An event's delivery: its record in Kafka → arrival in the consumer",
  unit: "s",
  ...latency,
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

interface TopicSets {
  /** Per-event histograms: the topic only. */
  topic: Attributes;
  /** Counters by a second key (outcome or retry kind). */
  by: Map<string, Attributes>;
}

/** The instruments of one consumer group, with its attribute sets made once. */
export class ConsumerMeter {
  readonly #base: Attributes;
  readonly #topics = new Map<string, TopicSets>();

  constructor(readonly group: string) {
    this.#base = { "messaging.system": "kafka", "messaging.consumer.group.name": group };
  }

  #sets(topic: string): TopicSets {
    let sets = this.#topics.get(topic);
    if (!sets) {
      sets = { topic: { "messaging.destination.name": topic }, by: new Map() };
      this.#topics.set(topic, sets);
    }
    return sets;
  }

  #by(topic: string, key: string, value: string): Attributes {
    const sets = this.#sets(topic);
    const k = `${key}=${value}`;
    let attrs = sets.by.get(k);
    if (!attrs) {
      attrs = { ...this.#base, "messaging.destination.name": topic, [key]: value };
      sets.by.set(k, attrs);
    }
    return attrs;
  }

  /** Counts a delivery's outcome. */
  outcome(topic: string, outcome: OutcomeName): void {
    consumed.add(1, this.#by(topic, "stocklet.outcome", outcome));
  }

  /**
   * Records an applied event's hop: its whole (outbox commit → applied, when the event said when
   * it was committed) and its stages (when Kafka's timestamp and the arrival are known too).
   */
  applied(topic: string, totalMs: number | undefined, t: HopTimes | undefined): void {
    if (totalMs !== undefined) hop.record(totalMs / 1000, this.#sets(topic).topic);
    if (!t) return;
    processing.record(t.applyMs / 1000);
    relay.record(t.relayMs / 1000);
    delivery.record(t.deliverMs / 1000);
  }

  /** Counts a retry. */
  retried(topic: string, transient: boolean): void {
    retries.add(1, this.#by(topic, "stocklet.retry.kind", transient ? "transient" : "failure"));
  }

  /** Records a round's size. */
  round(size: number): void {
    batchSize.record(size);
  }
}
