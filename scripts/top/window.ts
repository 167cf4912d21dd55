/**
 * Arithmetic over a window of cumulative series (as the collector's `/api/metrics` returns them):
 * a counter's increase and rate, a histogram's increase and its quantiles (interpolated within a
 * bucket, as Prometheus' `histogram_quantile` does), the latest value of gauges. A drop in a
 * cumulative value means its process restarted: the increase then counts from zero again.
 * @module
 */
import type { HistogramValue, Point, Series } from "../trace/metric_store.ts";

/** The points of a series within [now − windowMs, now], plus the one just before (the start). */
function windowed(points: readonly Point[], windowMs: number, now: number): Point[] {
  const since = now - windowMs;
  let i = points.length - 1;
  while (i > 0 && points[i]!.t > since) i--;
  return points.slice(i);
}

/** A point's cumulative count: a sum's value, a histogram's count. */
const countOf = (p: Point): number => p.v ?? p.h?.count ?? 0;

/**
 * Whether a series' first point in the window started counting inside it (a series born in the
 * window, with no point before it): its whole value is then growth within the window. So is the
 * first point of a series that appeared late (`late`: its process exported before without it).
 */
function bornInside(s: Series, ps: readonly Point[], windowMs: number, now: number): boolean {
  const first = ps[0];
  if (first === undefined || first.t <= now - windowMs) return false;
  return (first.s ?? 0) > now - windowMs || (s.late === true && first === s.points[0]);
}

/** How much a cumulative series (a counter's value, a histogram's count) grew over the window. */
export function increaseOf(s: Series, windowMs: number, now: number): number {
  const ps = windowed(s.points, windowMs, now);
  let total = bornInside(s, ps, windowMs, now) ? countOf(ps[0]!) : 0;
  for (let i = 1; i < ps.length; i++) {
    const a = countOf(ps[i - 1]!);
    const b = countOf(ps[i]!);
    total += b >= a ? b - a : b;
  }
  return total;
}

/** The sum of {@linkcode increaseOf} over series. */
export function increase(series: readonly Series[], windowMs: number, now: number): number {
  return series.reduce((n, s) => n + increaseOf(s, windowMs, now), 0);
}

/**
 * The seconds a window's points actually span (at most windowMs; 0 with fewer than 2 points), from
 * a series' start when it was born inside the window.
 */
export function spanSeconds(series: readonly Series[], windowMs: number, now: number): number {
  let span = 0;
  for (const s of series) {
    const ps = windowed(s.points, windowMs, now);
    // Born inside: it counted from its start (a late series: from no later than the window's).
    const from = bornInside(s, ps, windowMs, now)
      ? Math.min(ps[0]!.s ?? ps[0]!.t, ps[0]!.t)
      : ps[0]?.t ?? 0;
    if (ps.length >= 2 || from < (ps[0]?.t ?? 0)) span = Math.max(span, ps.at(-1)!.t - from);
  }
  return Math.min(span, windowMs) / 1000;
}

/** Per-second rate of the series' total increase over the window (0 without two points). */
export function rate(series: readonly Series[], windowMs: number, now: number): number {
  const span = spanSeconds(series, windowMs, now);
  return span > 0 ? increase(series, windowMs, now) / span : 0;
}

const emptyHistogram = (bounds: number[]): HistogramValue => ({
  count: 0,
  sum: 0,
  bounds,
  buckets: new Array(bounds.length + 1).fill(0),
});

/** A histogram series' growth over the window (counts per bucket), restarts counted from zero. */
export function histogramIncreaseOf(s: Series, windowMs: number, now: number): HistogramValue {
  const ps = windowed(s.points, windowMs, now).filter((p) => p.h);
  const out = emptyHistogram(ps.at(-1)?.h?.bounds ?? []);
  if (bornInside(s, ps, windowMs, now)) {
    const first = ps[0]!.h!;
    out.count = first.count;
    out.sum = first.sum;
    out.buckets = [...first.buckets];
  }
  for (let i = 1; i < ps.length; i++) {
    const a = ps[i - 1]!.h!;
    const b = ps[i]!.h!;
    const reset = b.count < a.count || b.bounds.length !== a.bounds.length;
    out.count += reset ? b.count : b.count - a.count;
    out.sum += reset ? b.sum : b.sum - a.sum;
    for (let k = 0; k < out.buckets.length; k++) {
      out.buckets[k]! += reset ? (b.buckets[k] ?? 0) : (b.buckets[k] ?? 0) - (a.buckets[k] ?? 0);
    }
  }
  return out;
}

/** The merged growth of several histogram series with the same bounds. */
export function histogramIncrease(
  series: readonly Series[],
  windowMs: number,
  now: number,
): HistogramValue {
  let out: HistogramValue | undefined;
  for (const s of series) {
    const h = histogramIncreaseOf(s, windowMs, now);
    if (!out) out = h;
    else if (out.bounds.length === h.bounds.length) {
      out.count += h.count;
      out.sum += h.sum;
      h.buckets.forEach((c, k) => (out!.buckets[k]! += c));
    }
  }
  return out ?? emptyHistogram([]);
}

/**
 * The q-quantile of a histogram (0 < q < 1), interpolated linearly inside its bucket; undefined
 * when it is empty. Values in the last (+Inf) bucket are reported as its lower bound.
 *
 * @example
 * ```ts
 * quantile(0.5, { count: 4, sum: 1, bounds: [0.1, 0.2], buckets: [0, 4, 0] }); // → 0.15 (about)
 * ```
 */
export function quantile(q: number, h: HistogramValue): number | undefined {
  if (h.count <= 0) return undefined;
  const rank = q * h.count;
  let seen = 0;
  for (let k = 0; k < h.buckets.length; k++) {
    const c = h.buckets[k]!;
    if (seen + c >= rank && c > 0) {
      const lo = k === 0 ? 0 : h.bounds[k - 1]!;
      if (k >= h.bounds.length) return lo;
      const hi = h.bounds[k]!;
      return lo + (hi - lo) * ((rank - seen) / c);
    }
    seen += c;
  }
  return h.bounds.at(-1);
}

/** The sum of gauges' latest values. */
export function latestSum(series: readonly Series[]): number {
  return series.reduce((n, s) => n + (s.points.at(-1)?.v ?? 0), 0);
}

/** How old a gauge's latest point may be: older, its process is gone (stacks export every 1–2 s). */
export const STALE_MS = 15_000;

/** Series with a point in the last `maxAgeMs` (the others' processes are gone). */
export function fresh(
  series: readonly Series[],
  now: number,
  maxAgeMs: number = STALE_MS,
): Series[] {
  return series.filter((s) => (s.points.at(-1)?.t ?? -Infinity) >= now - maxAgeMs);
}

/**
 * The sum of gauges every replica of a service reports alike (its consumer group's lag per
 * partition, its outbox backlog): per set of attributes, the freshest value of any instance, so
 * two replicas never count the same partition twice.
 */
export function latestShared(series: readonly Series[]): number {
  const newest = new Map<string, { t: number; v: number }>();
  for (const s of series) {
    const p = s.points.at(-1);
    if (p?.v === undefined) continue;
    const key = JSON.stringify(Object.keys(s.attributes).sort().map((k) => [k, s.attributes[k]]));
    const seen = newest.get(key);
    if (!seen || p.t > seen.t) newest.set(key, { t: p.t, v: p.v });
  }
  let sum = 0;
  for (const { v } of newest.values()) sum += v;
  return sum;
}

/** How many processes (`service.instance.id`) the series come from. */
export function instanceCount(series: readonly Series[]): number {
  return new Set(series.map((s) => s.instance ?? "")).size;
}

/** The latest cumulative value of counters (their total since their process started). */
export function total(series: readonly Series[]): number {
  return latestSum(series);
}

/** Series whose attributes include every given pair. */
export function where(series: readonly Series[], attrs: Record<string, unknown>): Series[] {
  return series.filter((s) => Object.entries(attrs).every(([k, v]) => s.attributes[k] === v));
}
