/**
 * A running consumer's counters: what happened to the messages it handled, the transactions
 * (rounds) it committed, and the recent outbox → consumer lag.
 * @module
 */
import type { Outcome } from "./apply.ts";
import type { Delivery } from "./delivery.ts";
import { connectorLag } from "./lag.ts";

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
}

/** Keeps a consumer's counters. */
export class StatsKeeper {
  readonly #s = {
    applied: 0,
    duplicates: 0,
    filtered: 0,
    skipped: 0,
    deadLettered: 0,
    retries: 0,
    rounds: 0,
    lagMs: [] as number[],
  };

  /** Counts one delivery's outcome. */
  count(d: Delivery, o: Outcome): void {
    switch (o.kind) {
      case "applied": {
        this.#s.applied++;
        const lag = connectorLag(d.headers.created_at);
        if (lag !== undefined) {
          this.#s.lagMs.push(lag);
          if (this.#s.lagMs.length > 10_000) this.#s.lagMs.splice(0, 5_000);
        }
        break;
      }
      case "duplicate":
        this.#s.duplicates++;
        break;
      case "filtered":
        this.#s.filtered++;
        break;
      case "skipped":
        this.#s.skipped++;
        break;
      case "dead-lettered":
        this.#s.deadLettered++;
        break;
      case "aborted":
        break;
    }
  }

  /** Counts a retry. */
  retried(): void {
    this.#s.retries++;
  }

  /** Counts a round. */
  round(): void {
    this.#s.rounds++;
  }

  /** A copy of the counters. */
  snapshot(): ConsumerStats {
    return { ...this.#s, lagMs: [...this.#s.lagMs] };
  }
}
