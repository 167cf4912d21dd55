/**
 * Admission control for new orders: past a bound of sagas in flight, new orders are refused at
 * once (429 with `Retry-After`) instead of being accepted into a backlog they would wait in until
 * the saga timeout rejects them. Under overload the system then keeps finishing orders at its
 * peak rate, and every order it accepts can finish.
 *
 * The count of in-flight orders comes from the database (every replica sees the same), read in
 * the background a few times a second from the partial index of in-flight orders, plus the orders
 * this process placed since that read and those whose insert had not committed when it was read
 * (the read cannot see them: without them each read forgot the placements in progress, as many as
 * the calls being served at once, and admitted that many past the bound): a burst cannot slip past
 * the bound between two reads.
 * That sum only ever overcounts (sagas that ended since the read still count), so an order that
 * would be refused on it is decided on a fresh read instead, one read at a time and at most one
 * per `freshMs`: a stale count refuses orders the backlog has room for (with the bound at 128, a
 * closed loop of 128 orders was refused 53 times in 20 s on the 100 ms read, 24 times on fresh
 * reads, which still lag the sagas that end while they run).
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
  /** A count read this recently is fresh enough to refuse on (ms). @default 10 */
  freshMs?: number;
  /** The clock (ms). @default performance.now */
  now?: () => number;
}

/** The admission gate of PlaceOrder. */
export class Admission {
  #counted = 0;
  #placedSince = 0;
  #placing = 0;
  #readAt = Number.NEGATIVE_INFINITY;
  #reading: Promise<void> | undefined;
  readonly #now: () => number;

  constructor(readonly sql: Sql, readonly opts: AdmissionOptions) {
    this.#now = opts.now ?? (() => performance.now());
  }

  /** Orders in flight as far as this process knows. */
  get inFlight(): number {
    return this.#counted + this.#placedSince;
  }

  /**
   * Admits one order, or throws RESOURCE_EXHAUSTED (429, Retry-After 1) when the saga backlog is
   * full on a count read within `freshMs`.
   */
  async admit(): Promise<void> {
    if (this.#full()) {
      // A failed read leaves the count as it was: refuse on it rather than fail the call.
      if (this.#now() - this.#readAt > (this.opts.freshMs ?? 10)) {
        await this.refresh().catch(() => {});
      }
      if (this.#full()) {
        throw tooBusy(
          `too many orders in progress (${this.inFlight}); please retry in a moment`,
          1,
        );
      }
    }
    this.#placedSince++;
  }

  /**
   * Admits one order and runs its placement (the transaction that inserts it), counting it as in
   * flight while it runs: until it commits, a read of the count cannot see it.
   */
  async place<T>(placement: () => Promise<T>): Promise<T> {
    await this.admit();
    this.#placing++;
    try {
      return await placement();
    } finally {
      this.#placing--;
    }
  }

  #full(): boolean {
    return this.opts.maxInFlight > 0 && this.inFlight >= this.opts.maxInFlight;
  }

  /** Reads the count once (joins the read in progress, if any). */
  refresh(): Promise<void> {
    this.#reading ??= this.#read().finally(() => (this.#reading = undefined));
    return this.#reading;
  }

  async #read(): Promise<void> {
    const startedAt = this.#now();
    const placedBefore = this.#placedSince;
    // Orders whose insert had not committed when the count started are not in it (or, committed
    // before its snapshot, are: counted twice until the next read, the safe side).
    const placingBefore = this.#placing;
    const n = await countInFlight(this.sql);
    this.#counted = n + placingBefore;
    this.#readAt = startedAt;
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
