/**
 * Notices stalled sagas: an order still in flight after the timeout is rejected (reason TIMEOUT),
 * and its `order.state.rejected` makes every participant compensate.
 *
 * Safe with several replicas, every one sweeping: each batch locks the orders it rejects
 * (`for update skip locked`) in the transaction that rejects them, so two sweepers never take the
 * same order and neither waits for the other; an order rejected meanwhile is no longer in flight
 * when the next batch looks. Row locks rather than a leader (an advisory lock or a lease): no
 * election to lose when a replica dies, and the work spreads.
 * @module
 */
import { type Sql, transaction } from "@stocklet/shared/db";
import { getLog } from "@stocklet/shared/logging";
import { type BackgroundTask, pause } from "@stocklet/shared/service";
import { RejectReason } from "./domain.ts";
import { rejectOrder } from "./steps.ts";
import { lockStalled } from "./store.ts";

const log = getLog("order", "sweeper");

/** Options of {@linkcode sagaTimeoutSweeper}. */
export interface SweeperOptions {
  /** An order in flight longer than this is rejected. */
  timeoutMs: number;
  /** How often to look. */
  intervalMs: number;
  /** Orders per transaction. @default 100 */
  batch?: number;
}

/** Rejects every order stalled longer than the timeout; returns how many it rejected. */
export async function sweepOnce(sql: Sql, opts: SweeperOptions): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await transaction(sql, "sweep stalled orders", async (tx) => {
      const ids = await lockStalled(tx, new Date(Date.now() - opts.timeoutMs), opts.batch ?? 100);
      for (const id of ids) await rejectOrder(tx, id, RejectReason.TIMEOUT);
      return ids.length;
    });
    total += n;
    if (n < (opts.batch ?? 100)) return total;
  }
}

/** The background task that runs {@linkcode sweepOnce} every interval. */
export function sagaTimeoutSweeper(sql: Sql, opts: SweeperOptions): BackgroundTask {
  return async (signal) => {
    while (!signal.aborted) {
      await pause(opts.intervalMs, signal);
      if (signal.aborted) return;
      try {
        const n = await sweepOnce(sql, opts);
        if (n) {
          log.warn("rejected {n} stalled orders (saga timeout {timeoutMs} ms)", {
            n,
            timeoutMs: opts.timeoutMs,
          });
        }
      } catch (error) {
        log.error("sweep failed: {error}", { error });
      }
    }
  };
}
