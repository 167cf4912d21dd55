/**
 * Live order pages: who watches which order, and a nudge for each of them when a step of their
 * order commits. The projection announces each stored step with `pg_notify` inside its
 * transaction, so a page hears of a step exactly when it becomes readable, whichever replica of
 * the web front stored it. A nudge carries no data: the page's stream reads the order's steps.
 * @module
 */
import type { Sql } from "@stocklet/shared/db";
import { getLog } from "@stocklet/shared/logging";
import { TIMELINE_CHANNEL } from "./store.ts";

const log = getLog("live");

/** Called when the watched order may have new steps. */
export type Nudge = () => void;

/** The live hub. */
export interface LiveHub {
  /** Calls nudge whenever the order may have changed, until the returned function is called. */
  watch(orderId: string, nudge: Nudge): () => void;
  /** Orders watched now (for metrics and tests). */
  watching(): number;
  /** Nudges every watcher (after a reconnect, when announcements may have been missed). */
  nudgeAll(): void;
  /** Stops listening; the watchers' streams end. */
  stop(): Promise<void>;
  /** Aborted when the hub stops: streams close on it. */
  readonly stopped: AbortSignal;
}

/**
 * A hub fed by the given announcements: `announce(orderId)` nudges that order's watchers.
 * {@linkcode listenHub} connects it to Postgres.
 */
export function liveHub(): LiveHub & { announce(orderId: string): void } {
  const watchers = new Map<string, Set<Nudge>>();
  const stop = new AbortController();
  const fire = (n: Nudge) => {
    try {
      n();
    } catch (error) {
      log.warn("a live page failed on a nudge: {error}", { error });
    }
  };
  return {
    watch(orderId, nudge) {
      let set = watchers.get(orderId);
      if (!set) watchers.set(orderId, set = new Set());
      set.add(nudge);
      return () => {
        set.delete(nudge);
        if (set.size === 0 && watchers.get(orderId) === set) watchers.delete(orderId);
      };
    },
    watching: () => watchers.size,
    announce(orderId) {
      for (const n of watchers.get(orderId) ?? []) fire(n);
    },
    nudgeAll() {
      for (const set of watchers.values()) for (const n of set) fire(n);
    },
    stop() {
      stop.abort();
      watchers.clear();
      return Promise.resolve();
    },
    stopped: stop.signal,
  };
}

/**
 * A hub listening on the timeline channel of the database (postgres.js keeps one connection for
 * it and listens again after a reconnect; every watcher is nudged then, in case a step committed
 * while it was away).
 */
export async function listenHub(sql: Sql): Promise<LiveHub> {
  const hub = liveHub();
  let first = true;
  const { unlisten } = await sql.listen(
    TIMELINE_CHANNEL,
    (orderId) => hub.announce(orderId),
    () => {
      if (!first) {
        log.info("listening on {channel} again", { channel: TIMELINE_CHANNEL });
        hub.nudgeAll();
      }
      first = false;
    },
  );
  return {
    watch: hub.watch,
    watching: hub.watching,
    nudgeAll: hub.nudgeAll,
    stopped: hub.stopped,
    async stop() {
      await hub.stop();
      await unlisten().catch(() => {});
    },
  };
}
