/**
 * The outbox seen from its service: `stocklet.outbox.pending` ({row}, rows the relay has not
 * confirmed yet), `stocklet.outbox.oldest.age` (s, how long the oldest of them has waited) and
 * `stocklet.outbox.relay.lag` (s, how old the newest position the relay confirmed is, from the
 * RelayWatch the outbox purger ticks). The count is one query on a table the purger keeps small,
 * run at export time at most once per {@linkcode gaugeRefreshMs}.
 * @module
 */
import type { Sql } from "../db.ts";
import { getLog } from "../logging.ts";
import type { RelayWatch } from "../relay_watch.ts";
import { gaugeRefreshMs, meter, metricsEnabled, Refreshed } from "./meter.ts";

const log = getLog("metrics");

const pendingGauge = meter.createObservableGauge("stocklet.outbox.pending", {
  description: "Outbox rows the relay has not confirmed yet",
  unit: "{row}",
});
const oldestGauge = meter.createObservableGauge("stocklet.outbox.oldest.age", {
  description: "How long the oldest outbox row the relay has not confirmed has waited",
  unit: "s",
});
const relayLagGauge = meter.createObservableGauge("stocklet.outbox.relay.lag", {
  description: "Age of the newest WAL position the outbox relay confirmed",
  unit: "s",
});

/** What waits in an outbox. */
export interface OutboxBacklog {
  rows: number;
  /** Seconds the oldest waiting row has waited (0 when none). */
  oldestAgeS: number;
}

/** Counts the rows created at or after `since` (every row when undefined). */
export async function outboxBacklog(sql: Sql, since: Date | undefined): Promise<OutboxBacklog> {
  const [row] = await sql<{ rows: number; age: number | null }[]>`
    select count(*)::int as rows,
      extract(epoch from clock_timestamp() - min(created_at))::float8 as age
    from outbox where created_at >= ${since ?? new Date(0)}`;
  return { rows: row?.rows ?? 0, oldestAgeS: Math.max(0, row?.age ?? 0) };
}

/**
 * Reports a service's outbox through the gauges until stopped.
 * @returns A function that stops it.
 */
export function watchOutbox(sql: Sql, relay: RelayWatch): () => void {
  if (!metricsEnabled()) return () => {};
  let warned = false;
  const backlog = new Refreshed(
    () => outboxBacklog(sql, relay.state.relayedBefore),
    gaugeRefreshMs,
    (error) => {
      if (!warned) log.warn("cannot count the outbox backlog: {error}", { error });
      warned = true;
    },
  );
  const attrs = { "stocklet.relay.slot": relay.slot };
  const pending = (r: { observe(v: number, a: Record<string, string>): void }) => {
    const b = backlog.read();
    if (b) r.observe(b.rows, attrs);
  };
  const oldest = (r: { observe(v: number, a: Record<string, string>): void }) => {
    const b = backlog.read();
    if (b) r.observe(b.oldestAgeS, attrs);
  };
  const lag = (r: { observe(v: number, a: Record<string, string>): void }) => {
    const ms = relay.state.lagMs;
    if (ms !== undefined) r.observe(ms / 1000, attrs);
  };
  pendingGauge.addCallback(pending);
  oldestGauge.addCallback(oldest);
  relayLagGauge.addCallback(lag);
  return () => {
    pendingGauge.removeCallback(pending);
    oldestGauge.removeCallback(oldest);
    relayLagGauge.removeCallback(lag);
  };
}
