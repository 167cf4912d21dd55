/**
 * A running consumer's counters: what happened to the messages it handled, the transactions
 * (rounds) it committed, and the recent outbox → consumer lag.
 * @module
 */
import type { Outcome } from "./apply.ts";
import type { Delivery } from "./delivery.ts";
import { connectorLag } from "./lag.ts";
import { ConsumerMeter } from "../metrics/consumer.ts";

/**
 * Where one applied event's time went, from its outbox row to the commit of the transaction that
 * applied it (ms): the relay reading it from the WAL (Debezium's timestamp − the row's
 * `created_at`), the trip to this process (Connect, the broker, the fetch), and applying it.
 */
export interface HopSample {
  topic: string;
  relayMs: number;
  deliverMs: number;
  applyMs: number;
}

/** Counters of a running consumer. */
export interface ConsumerStats {
  applied: number;
  duplicates: number;
  filtered: number;
  skipped: number;
  deadLettered: number;
  retries: number;
  /** Rounds applied (each at most one transaction per chunk). */
  rounds: number;
  /** Commit → handled lag of recent events, in ms (from the `created_at` header). */
  lagMs: readonly number[];
  /** The anatomy of recent events' hops (the last {@linkcode KEEP} applied). */
  hops: readonly HopSample[];
}

/** Recent samples kept. */
const KEEP = 5_000;

/** Keeps a consumer's counters (and records them into its group's instruments). */
export class StatsKeeper {
  readonly #meter: ConsumerMeter;

  /** @param group The consumer group (names the instruments' measurements). */
  constructor(group = "") {
    this.#meter = new ConsumerMeter(group);
  }

  readonly #s = {
    applied: 0,
    duplicates: 0,
    filtered: 0,
    skipped: 0,
    deadLettered: 0,
    retries: 0,
    rounds: 0,
    lagMs: [] as number[],
    hops: [] as HopSample[],
  };

  /** Counts one delivery's outcome; `at` is when its transaction committed. */
  count(d: Delivery, o: Outcome, at: number = Date.now()): void {
    switch (o.kind) {
      case "applied": {
        this.#s.applied++;
        this.#meter.outcome(d.topic, "applied");
        const lag = connectorLag(d.headers.created_at, at);
        let hop: HopSample | undefined;
        if (lag !== undefined) {
          keep(this.#s.lagMs, lag);
          if (d.timestamp !== undefined && d.receivedAt !== undefined) {
            const created = at - lag;
            hop = {
              topic: d.topic,
              relayMs: Math.max(0, d.timestamp - created),
              deliverMs: Math.max(0, d.receivedAt - d.timestamp),
              applyMs: Math.max(0, at - d.receivedAt),
            };
            keep(this.#s.hops, hop);
          }
        }
        this.#meter.applied(d.topic, lag, hop);
        break;
      }
      case "duplicate":
        this.#s.duplicates++;
        this.#meter.outcome(d.topic, "duplicate");
        break;
      case "filtered":
        this.#s.filtered++;
        this.#meter.outcome(d.topic, "filtered");
        break;
      case "skipped":
        this.#s.skipped++;
        this.#meter.outcome(d.topic, "skipped");
        break;
      case "dead-lettered":
        this.#s.deadLettered++;
        this.#meter.outcome(d.topic, "dead_lettered");
        break;
      case "aborted":
        break;
    }
  }

  /** Counts a retry (of a delivery of `topic`; transient: the infrastructure failed). */
  retried(topic = "", transient = true): void {
    this.#s.retries++;
    this.#meter.retried(topic, transient);
  }

  /** Counts a round of `size` deliveries. */
  round(size = 0): void {
    this.#s.rounds++;
    this.#meter.round(size);
  }

  /** A copy of the counters. */
  snapshot(): ConsumerStats {
    return { ...this.#s, lagMs: [...this.#s.lagMs], hops: [...this.#s.hops] };
  }
}

function keep<T>(list: T[], x: T): void {
  list.push(x);
  if (list.length > 2 * KEEP) list.splice(0, list.length - KEEP);
}
