/**
 * Rounds: kafkajs hands each partition's new records of one fetch to its own `eachBatch` call, all
 * started in the same tick. A round collects what those calls submit and applies it together (one
 * transaction for every topic and partition of the fetch, in chunks of at most `maxEvents`), then
 * answers each call with its own outcomes. kafkajs fetches again only once every call returned, so
 * rounds never overlap.
 * @module
 */
import type { Outcome } from "./apply.ts";
import type { Delivery } from "./delivery.ts";

interface Submission {
  deliveries: readonly Delivery[];
  resolve(outcomes: Outcome[]): void;
  reject(err: unknown): void;
}

/**
 * Collects submissions made in one tick and applies them as one round.
 *
 * @example
 * ```ts
 * const rounds = new RoundCollector((ds) => applyRound(ds, deps), 200);
 * const outcomes = await rounds.submit(batchDeliveries); // in each eachBatch call
 * ```
 */
export class RoundCollector {
  #pending: Submission[] = [];

  /**
   * @param apply Applies deliveries (each partition's in order), returning outcomes in order.
   * @param maxEvents Deliveries applied together at most (a backlog is cut into chunks).
   */
  constructor(
    readonly apply: (deliveries: readonly Delivery[]) => Promise<Outcome[]>,
    readonly maxEvents = 200,
  ) {}

  /** Adds deliveries to the current round; resolves with their outcomes, in order. */
  submit(deliveries: readonly Delivery[]): Promise<Outcome[]> {
    return new Promise((resolve, reject) => {
      if (!this.#pending.length) queueMicrotask(() => this.#flush());
      this.#pending.push({ deliveries, resolve, reject });
    });
  }

  async #flush(): Promise<void> {
    const round = this.#pending;
    this.#pending = [];
    const all = round.flatMap((s) => s.deliveries);
    try {
      const outcomes: Outcome[] = [];
      for (let start = 0; start < all.length; start += this.maxEvents) {
        const chunk = all.slice(start, start + this.maxEvents);
        // After a chunk cut short by shutdown, the rest waits for the next owner too.
        if (outcomes.some((o) => o.kind === "aborted")) {
          outcomes.push(...chunk.map((): Outcome => ({ kind: "aborted" })));
        } else outcomes.push(...await this.apply(chunk));
      }
      let at = 0;
      for (const s of round) {
        s.resolve(outcomes.slice(at, at + s.deliveries.length));
        at += s.deliveries.length;
      }
    } catch (err) {
      for (const s of round) s.reject(err);
    }
  }
}
