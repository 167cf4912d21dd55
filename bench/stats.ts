/**
 * Small statistics for the bench: percentiles (nearest-rank), summaries, and per-second buckets of
 * timestamped samples for charts. Pure functions, no I/O.
 * @module
 */

/** A summary of a sample of numbers (all in the sample's unit, NaN-free). */
export interface Summary {
  n: number;
  min: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/**
 * The p-th percentile (0 < p ≤ 100) of an ascending-sorted array, by the nearest-rank method: the
 * smallest value such that at least p % of the sample is ≤ it. NaN for an empty array.
 *
 * @example
 * ```ts
 * percentile([1, 2, 3, 4], 50); // 2
 * percentile([1, 2, 3, 4], 99); // 4
 * ```
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  if (!(p > 0)) return sorted[0]!;
  if (p >= 100) return sorted[sorted.length - 1]!;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** Summarises a sample (unsorted is fine; it is copied). All fields NaN (n = 0) when empty. */
export function summarize(values: readonly number[]): Summary {
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (s.length === 0) {
    return { n: 0, min: NaN, mean: NaN, p50: NaN, p95: NaN, p99: NaN, max: NaN };
  }
  let sum = 0;
  for (const v of s) sum += v;
  return {
    n: s.length,
    min: s[0]!,
    mean: sum / s.length,
    p50: percentile(s, 50),
    p95: percentile(s, 95),
    p99: percentile(s, 99),
    max: s[s.length - 1]!,
  };
}

/** A timestamped sample: `t` in ms (any origin), `v` the value. */
export interface Sample {
  t: number;
  v: number;
}

/** One time bucket of samples. */
export interface Bucket {
  /** Bucket start, relative to the origin, in seconds. */
  t: number;
  count: number;
  p50: number;
  p99: number;
}

/**
 * Groups samples into buckets of `widthMs` from `origin` (samples before it are dropped) and
 * summarises each: count, p50 and p99 of the values. Empty buckets between the first and the last
 * are kept with count 0 and NaN percentiles, so a rate series has no holes.
 */
export function bucketize(samples: readonly Sample[], origin: number, widthMs = 1000): Bucket[] {
  const groups = new Map<number, number[]>();
  let last = -1;
  for (const s of samples) {
    if (s.t < origin || !Number.isFinite(s.t)) continue;
    const i = Math.floor((s.t - origin) / widthMs);
    const g = groups.get(i);
    if (g) g.push(s.v);
    else groups.set(i, [s.v]);
    if (i > last) last = i;
  }
  const out: Bucket[] = [];
  for (let i = 0; i <= last; i++) {
    const vs = (groups.get(i) ?? []).sort((a, b) => a - b);
    out.push({
      t: (i * widthMs) / 1000,
      count: vs.length,
      p50: percentile(vs, 50),
      p99: percentile(vs, 99),
    });
  }
  return out;
}

/** Events per second of timestamps (ms) within [from, to); 0 for an empty window. */
export function ratePerSecond(times: readonly number[], from: number, to: number): number {
  if (!(to > from)) return 0;
  let n = 0;
  for (const t of times) if (t >= from && t < to) n++;
  return n / ((to - from) / 1000);
}

/** Rounds to `digits` decimals (NaN stays NaN), for readable JSON. */
export function round(v: number, digits = 1): number {
  if (!Number.isFinite(v)) return v;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** A deterministic PRNG (mulberry32) returning floats in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
