/**
 * Reading metrics back from a stack's collector (`GET /api/metrics`): for `deno task top`, the
 * tests that check instruments end to end, and the bench.
 *
 * @example
 * ```ts
 * const m = await fetchMetrics("http://127.0.0.1:4318", { names: ["stocklet.saga.duration"] });
 * const h = histogramIncrease(m.series, 60_000, m.now);
 * console.log(quantile(0.99, h));
 * ```
 * @module
 */
import type { MetricsAnswer } from "../trace/collector.ts";
import type { Series } from "../trace/metric_store.ts";
import { histogramIncrease, quantile, where } from "./window.ts";

export type { MetricsAnswer, Series };

/** Which series to fetch. */
export interface FetchOptions {
  names?: readonly string[];
  service?: string;
  /** How much history (ms). @default 60_000 */
  windowMs?: number;
}

/** The series a collector holds, with their recent points. */
export async function fetchMetrics(
  collectorUrl: string,
  opts: FetchOptions = {},
): Promise<MetricsAnswer> {
  const url = new URL("/api/metrics", collectorUrl);
  if (opts.names?.length) url.searchParams.set("names", opts.names.join(","));
  if (opts.service) url.searchParams.set("service", opts.service);
  url.searchParams.set("window", String(opts.windowMs ?? 60_000));
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return await res.json() as MetricsAnswer;
}

/** Waits until `check` holds for the collector's metrics (polling); returns the last answer. */
export async function waitForMetrics(
  collectorUrl: string,
  opts: FetchOptions,
  check: (m: MetricsAnswer) => boolean,
  timeoutMs = 20_000,
): Promise<MetricsAnswer> {
  const deadline = Date.now() + timeoutMs;
  let last: MetricsAnswer | undefined;
  while (Date.now() < deadline) {
    last = await fetchMetrics(collectorUrl, opts);
    if (check(last)) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  return last ?? await fetchMetrics(collectorUrl, opts);
}

/** The latest cumulative value of a counter's series matching attributes (summed). */
export function counterTotal(
  series: readonly Series[],
  name: string,
  attrs: Record<string, unknown> = {},
  service?: string,
): number {
  return where(series.filter((s) => s.name === name && (!service || s.service === service)), attrs)
    .reduce((n, s) => n + (s.points.at(-1)?.v ?? s.points.at(-1)?.h?.count ?? 0), 0);
}

/** Percentiles (ms) of what was recorded in a window, and how many were. */
export interface Figures {
  p50?: number;
  p99?: number;
  count: number;
}

/**
 * The bench's figures from the same metrics (one source of truth), over the last `windowMs`, in
 * ms: place → terminal (`stocklet.saga.duration`), an event's whole hop (outbox commit → applied)
 * and its stages (relay: outbox → Kafka; delivery: Kafka → consumer; apply), each as p50/p99 and
 * how many were recorded. Percentiles come from histogram buckets (interpolated inside a bucket:
 * within 25 ms between 100 and 400 ms, see LATENCY_BUCKETS), like Prometheus' `histogram_quantile`.
 *
 * @example
 * ```ts
 * const f = await sagaFigures("http://127.0.0.1:4318", 60_000);
 * console.log(f.placeToTerminalMs.p99, f.hopMs.p99, f.stagesMs.relay.p50);
 * ```
 */
export async function sagaFigures(collectorUrl: string, windowMs: number): Promise<{
  placeToTerminalMs: Figures;
  hopMs: Figures;
  stagesMs: { relay: Figures; delivery: Figures; apply: Figures };
}> {
  const names = {
    saga: "stocklet.saga.duration",
    hop: "stocklet.event.hop.duration",
    relay: "stocklet.event.relay.duration",
    delivery: "stocklet.event.delivery.duration",
    apply: "messaging.process.duration",
  };
  const m = await fetchMetrics(collectorUrl, {
    names: Object.values(names),
    windowMs: windowMs + 5_000,
  });
  const figures = (name: string): Figures => {
    const h = histogramIncrease(m.series.filter((s) => s.name === name), windowMs, m.now);
    const ms = (s: number | undefined) => (s ?? 0) * 1000;
    return {
      ...(h.count ? { p50: ms(quantile(0.5, h)), p99: ms(quantile(0.99, h)) } : {}),
      count: h.count,
    };
  };
  return {
    placeToTerminalMs: figures(names.saga),
    hopMs: figures(names.hop),
    stagesMs: {
      relay: figures(names.relay),
      delivery: figures(names.delivery),
      apply: figures(names.apply),
    },
  };
}
