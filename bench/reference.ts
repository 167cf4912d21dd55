/**
 * The fixed reference: the Go original (hexolan/stocklet) measured on this 2-core machine beside
 * Stocklet (issue 12), with the same infrastructure and the same method. Every comparison the
 * bench prints is against these figures, at these settings; README quotes only such comparisons.
 * @module
 */

/** The settings both systems were measured with. */
export const REFERENCE_SETTINGS = {
  machine: "2 cores, 24 GiB, Debian 12",
  infrastructure: "PostgreSQL 15, Kafka 3.9.2 (KRaft), Kafka Connect + Debezium 3.7.0",
  debeziumPollMs: 20,
  partitionsPerTopic: 1,
  method: "open loop at fixed rates and closed loop with N in flight; orders of 2 distinct " +
    "random products × 1 (of 50) by a random customer (of 200); completion seen by polling " +
    "the order table every 5 ms (place → terminal)",
} as const;

/** One open-loop row: completed orders/s and place → terminal latency (ms). */
export interface OpenRow {
  offered: number;
  completed: number;
  p50: number;
  p99: number;
}

/** The Go original's open-loop rows. */
export const GO_OPEN: readonly OpenRow[] = [
  { offered: 60, completed: 60, p50: 134, p99: 185 },
  { offered: 120, completed: 120, p50: 141, p99: 200 },
  { offered: 150, completed: 150, p50: 164, p99: 279 },
  { offered: 180, completed: 180, p50: 378, p99: 874 },
];

/** The Go original's closed-loop rows: completed orders/s with N in flight. */
export const GO_CLOSED: ReadonlyArray<{ inFlight: number; completed: number }> = [
  { inFlight: 64, completed: 186 },
  { inFlight: 128, completed: 205 },
];

/** Other figures of the Go original, same day, same settings. */
export const GO_OTHER = {
  /** Whole machine at 60 orders/s, load generator excluded (cores). */
  coresAt60: 1.02,
  /** Of which PostgreSQL, Kafka and Connect (cores). */
  infraCoresAt60: 0.70,
  /** Whole-stack PSS (MiB) at 60/s and at 128 in flight. */
  pssAt60MiB: 780,
  pssAt128MiB: 790,
  /** The six-hop saga alone, p50 (ms). */
  oneOrderP50: 136,
  /** Its peak: the closed loop with 128 in flight (orders/s). */
  peak: 205,
} as const;

/** Stocklet's targets derived from the reference (issue 12). */
export const TARGETS = {
  oneOrderP50Ms: 100,
  /** Aim: 1.5 × the Go original's peak. */
  aimPeak: Math.round(GO_OTHER.peak * 1.5),
  /** At 2 × the peak offered, at least this share of the peak completes. */
  overloadShare: 0.9,
  pssMiB: 1024,
  productReadsPerSec: 6000,
} as const;

/** `ours / theirs` as text, e.g. `×1.42`. */
export function ratio(ours: number, theirs: number): string {
  if (!Number.isFinite(ours) || !Number.isFinite(theirs) || theirs === 0) return "–";
  return `×${(ours / theirs).toFixed(2)}`;
}
