/**
 * What `deno task top` shows, computed from a window of the collector's series: per service the
 * request rate, the share of failed requests, the p99 latency, events consumed per second, the
 * consumer lag, dead letters, the outbox backlog and resident memory (of all its replicas, their
 * number beside its name); for the saga, orders per second by outcome
 * (and rejection reason) and place → terminal p50/p99. Services are whatever exported metrics, so
 * a new one shows up by itself.
 * @module
 */
import type { Series } from "../trace/metric_store.ts";
import {
  fresh,
  histogramIncrease,
  instanceCount,
  latestShared,
  latestSum,
  quantile,
  rate,
  total,
  where,
} from "./window.ts";

/** One service's line. */
export interface ServiceRow {
  service: string;
  /** Its processes exporting right now (replicas), when more than one. */
  instances?: number;
  /** Requests per second (RPCs over gRPC and REST; the edge: HTTP requests). */
  reqPerS: number;
  /** Share of them that failed on the server's side (%), undefined without requests. */
  errPct?: number;
  /** p99 request duration (ms). */
  p99Ms?: number;
  /** Events handled per second. */
  consumedPerS?: number;
  /** Messages its consumer group has not committed yet (all partitions, each counted once). */
  lag?: number;
  /** Messages it dead-lettered since it started. */
  deadLetters?: number;
  /** Outbox rows not relayed yet. */
  outbox?: number;
  /** Resident memory (MiB). */
  memMiB?: number;
}

/** The saga's line. */
export interface SagaRow {
  placedPerS: number;
  approvedPerS: number;
  rejectedPerS: number;
  cancelledPerS: number;
  /** Rejections per second by reason. */
  rejectedBy: Record<string, number>;
  p50Ms?: number;
  p99Ms?: number;
  /** Sagas that ended in the window. */
  ended: number;
}

/** The whole screen's data. */
export interface TopView {
  now: number;
  windowS: number;
  services: ServiceRow[];
  saga: SagaRow;
}

/** The metric names the view needs (to ask the collector for nothing else). */
export const TOP_METRICS: readonly string[] = [
  "rpc.server.call.duration",
  "http.server.request.duration",
  "messaging.client.consumed.messages",
  "stocklet.consumer.lag",
  "stocklet.outbox.pending",
  "stocklet.saga.started",
  "stocklet.saga.completed",
  "stocklet.saga.duration",
  "process.memory.usage",
];

const ms = (s: number | undefined) => (s === undefined ? undefined : s * 1000);

function requestsOf(all: readonly Series[], service: string): Series[] {
  const name = service === "edge" ? "http.server.request.duration" : "rpc.server.call.duration";
  return all.filter((s) => s.service === service && s.scope === "stocklet" && s.name === name);
}

/** Computes the view over the last `windowMs` of the series. */
export function topView(series: readonly Series[], now: number, windowMs: number): TopView {
  const mine = series.filter((s) => s.scope === "stocklet");
  const names = [...new Set(mine.map((s) => s.service))].sort((a, b) =>
    a === "edge" ? -1 : b === "edge" ? 1 : a.localeCompare(b)
  );
  const services = names.map((service): ServiceRow => {
    const reqs = requestsOf(mine, service);
    const of = (name: string) => mine.filter((s) => s.service === service && s.name === name);
    const reqPerS = rate(reqs, windowMs, now);
    const h = histogramIncrease(reqs, windowMs, now);
    const failed = histogramIncrease(
      reqs.filter((s) => s.attributes["error.type"] !== undefined),
      windowMs,
      now,
    );
    const consumed = of("messaging.client.consumed.messages");
    // Gauges of processes that are gone are left out; the group's lag and the outbox are the same
    // whichever replica reports them, the memory is each process's own.
    const lag = fresh(of("stocklet.consumer.lag"), now);
    const outbox = fresh(of("stocklet.outbox.pending"), now);
    const memory = fresh(of("process.memory.usage"), now);
    const instances = instanceCount(memory);
    const p99 = ms(quantile(0.99, h));
    return {
      service,
      ...(instances > 1 ? { instances } : {}),
      reqPerS,
      ...(h.count ? { errPct: (100 * failed.count) / h.count } : {}),
      ...(p99 !== undefined ? { p99Ms: p99 } : {}),
      ...(consumed.length || lag.length
        ? {
          consumedPerS: rate(consumed, windowMs, now),
          lag: latestShared(lag),
          deadLetters: total(where(consumed, { "stocklet.outcome": "dead_lettered" })),
        }
        : {}),
      ...(outbox.length ? { outbox: latestShared(outbox) } : {}),
      ...(memory.length ? { memMiB: latestSum(memory) / 2 ** 20 } : {}),
    };
  });

  const completed = mine.filter((s) => s.name === "stocklet.saga.completed");
  const byOutcome = (outcome: string) =>
    rate(where(completed, { "stocklet.saga.outcome": outcome }), windowMs, now);
  const rejectedBy: Record<string, number> = {};
  for (const s of where(completed, { "stocklet.saga.outcome": "rejected" })) {
    const reason = String(s.attributes["stocklet.saga.reason"] ?? "unknown");
    rejectedBy[reason] = (rejectedBy[reason] ?? 0) + rate([s], windowMs, now);
  }
  const durations = histogramIncrease(
    mine.filter((s) => s.name === "stocklet.saga.duration"),
    windowMs,
    now,
  );
  const p50 = ms(quantile(0.5, durations));
  const p99 = ms(quantile(0.99, durations));
  return {
    now,
    windowS: windowMs / 1000,
    services,
    saga: {
      placedPerS: rate(mine.filter((s) => s.name === "stocklet.saga.started"), windowMs, now),
      approvedPerS: byOutcome("approved"),
      rejectedPerS: byOutcome("rejected"),
      cancelledPerS: byOutcome("cancelled"),
      rejectedBy,
      ...(p50 !== undefined ? { p50Ms: p50 } : {}),
      ...(p99 !== undefined ? { p99Ms: p99 } : {}),
      ended: durations.count,
    },
  };
}
