/**
 * Admission control for new orders: past a bound of sagas in flight, new orders are refused at
 * once (429 with `Retry-After`) instead of being accepted into a backlog they would wait in until
 * the saga timeout rejects them. Under overload the system then keeps finishing orders at its
 * peak rate, and every order it accepts can finish.
 *
 * The count of in-flight orders comes from the database (every replica sees the same), read in
 * the background a few times a second from the partial index of in-flight orders, plus the orders
 * this process placed since that read: a burst cannot slip past the bound between two reads.
 *
 * With several replicas the bound is shared, not split: each reads the same count, so between two
 * reads the system admits at most the bound plus what the other replicas placed in that interval
 * (100 ms). No lock: the bound protects the saga's backlog, it is not an exact quota, and a
 * counter row every placement updated would serialise PlaceOrder across replicas.
 * @module
 */
import type { Sql } from "@stocklet/shared/db";
import { tooBusy } from "@stocklet/shared/errors";
import { getLog } from "@stocklet/shared/logging";
import { type BackgroundTask, pause } from "@stocklet/shared/service";
import { countInFlight } from "./store.ts";

const log = getLog("order", "admission");

/** Options of {@linkcode Admission}. */
export interface AdmissionOptions {
  /** Orders in flight (PROCESSING or PENDING) beyond which new ones are refused. 0: no bound. */
  maxInFlight: number;
  /** How often the count is read. @default 100 */
  refreshMs?: number;
}

/** The admission gate of PlaceOrder. */
export class Admission {
  #counted = 0;
  #placedSince = 0;

  constructor(readonly sql: Sql, readonly opts: AdmissionOptions) {}

  /** Orders in flight as far as this process knows. */
  get inFlight(): number {
    return this.#counted + this.#placedSince;
  }

  /** Throws RESOURCE_EXHAUSTED (429, Retry-After 1) when the saga backlog is full. */
  admit(): void {
    if (this.opts.maxInFlight > 0 && this.inFlight >= this.opts.maxInFlight) {
      throw tooBusy(
        `too many orders in progress (${this.inFlight}); please retry in a moment`,
        1,
      );
    }
    this.#placedSince++;
  }

  /** Reads the count once. */
  async refresh(): Promise<void> {
    const placedBefore = this.#placedSince;
    const n = await countInFlight(this.sql);
    this.#counted = n;
    // Orders placed while the count ran may or may not be in it: keep them, to be safe.
    this.#placedSince -= placedBefore;
  }

  /** The background loop that keeps the count fresh. */
  task(): BackgroundTask {
    return async (signal) => {
      while (!signal.aborted) {
        await this.refresh().catch((error) =>
          log.warn("cannot count orders in flight: {error}", { error })
        );
        await pause(this.opts.refreshMs ?? 100, signal);
      }
    };
  }
}
