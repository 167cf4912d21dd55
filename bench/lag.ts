/**
 * Outbox commit → consumer lag as the services measure it: each service's `GET /metrics` lists the
 * recent lags of the events its consumers applied (`consumer.lagMs`, from the Debezium `created_at`
 * header to the end of the handling transaction). Two snapshots bracket a phase; the entries
 * applied in between are the phase's lags.
 * @module
 */
import type { ServiceName } from "@stocklet/shared/topology";
import { summarize, type Summary } from "./stats.ts";

/** One service's consumer numbers at one moment. */
export interface MetricsSnapshot {
  applied: number;
  lagMs: number[];
}

/** Fetches every service's /metrics (services without a consumer or not answering are left out). */
export async function snapshotMetrics(
  services: readonly ServiceName[],
  urlOf: (svc: ServiceName) => string,
): Promise<Map<ServiceName, MetricsSnapshot>> {
  const out = new Map<ServiceName, MetricsSnapshot>();
  await Promise.all(services.map(async (svc) => {
    try {
      const res = await fetch(`${urlOf(svc)}/metrics`, { signal: AbortSignal.timeout(3000) });
      const body = await res.json() as {
        consumer: { applied: number; lagMs: number[] } | null;
      };
      if (body.consumer) {
        out.set(svc, { applied: body.consumer.applied, lagMs: body.consumer.lagMs });
      }
    } catch { /* not answering: no numbers */ }
  }));
  return out;
}

/**
 * The lags applied between two snapshots of one service: the last (applied after − before)
 * entries. A restarted service (counter went down) contributes everything it has.
 */
export function lagsBetween(before: MetricsSnapshot | undefined, after: MetricsSnapshot): number[] {
  const delta = before && after.applied >= before.applied
    ? after.applied - before.applied
    : after.applied;
  if (delta <= 0) return [];
  return after.lagMs.slice(-Math.min(delta, after.lagMs.length));
}

/** Lag summaries per service and over every service. */
export interface LagReport {
  perService: Record<string, Summary>;
  all: Summary;
}

/** Summarises the lags applied between two sets of snapshots. */
export function lagReport(
  before: ReadonlyMap<ServiceName, MetricsSnapshot>,
  after: ReadonlyMap<ServiceName, MetricsSnapshot>,
): LagReport {
  const perService: Record<string, Summary> = {};
  const all: number[] = [];
  for (const [svc, a] of after) {
    const lags = lagsBetween(before.get(svc), a);
    perService[svc] = summarize(lags);
    all.push(...lags);
  }
  return { perService, all: summarize(all) };
}
