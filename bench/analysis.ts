/**
 * Turning the raw record of a run (place requests and terminal events) into numbers: per phase,
 * the offered and completed rates, approved/rejected split, place → terminal latency, late and
 * unexpected outcomes, and whether the phase was sustained. Pure functions.
 * @module
 */
import type { PhaseRun, PlacedOrder } from "./load.ts";
import { type Sample, summarize, type Summary } from "./stats.ts";
import type { TerminalEvent } from "./terminal.ts";
import type { OrderKind } from "./workload.ts";

/** The outcome each kind of order should get. */
export const EXPECTED: Readonly<Record<OrderKind, { status: string; reason?: string }>> = {
  ok: { status: "APPROVED" },
  stock: { status: "REJECTED", reason: "INSUFFICIENT_STOCK" },
  balance: { status: "REJECTED", reason: "PAYMENT_FAILED" },
};

/** Whether a terminal event is what an order of this kind should end with. */
export function asExpected(kind: OrderKind, e: TerminalEvent): boolean {
  const x = EXPECTED[kind];
  return e.status === x.status && (x.reason === undefined || e.reason === x.reason);
}

/** The numbers of one phase. */
export interface PhaseStats {
  label: string;
  /** Offered arrival rate, orders/s. */
  rate: number;
  seconds: number;
  issued: number;
  accepted: number;
  /** Place requests that failed (non-200 or no answer) or were dropped client-side. */
  errors: number;
  completed: number;
  approved: number;
  rejected: number;
  /** Accepted orders with no terminal event (yet). */
  pending: number;
  /** Accepted orders not terminal within the SLO of being sent. */
  late: number;
  /** Orders whose outcome differs from their kind's (e.g. a saga timeout). */
  unexpected: number;
  /** Terminal commits per second inside the phase's window (any of the run's orders). */
  completedPerSec: number;
  approvedPerSec: number;
  rejectedPerSec: number;
  /** Place sent → terminal commit, ms. */
  latency: Summary;
  /** Place sent → HTTP answer, ms. */
  placeLatency: Summary;
  /** Terminal commit → seen by the bench's consumer, ms. */
  hopLatency: Summary;
  rejectReasons: Record<string, number>;
  sustained: boolean;
  /** Why it was not sustained. */
  why?: string;
}

/** Options of {@linkcode phaseStats}. */
export interface PhaseStatsOptions {
  /** Orders later than this count as late. */
  sloMs: number;
  /** Share of late or failed orders a sustained phase may have. @default 0.01 */
  tolerance?: number;
  /** "Now", for pending orders' age. */
  now: number;
}

/** The numbers of one phase, from its orders and every terminal event of the run. */
export function phaseStats(
  phase: PhaseRun,
  orders: readonly PlacedOrder[],
  terminal: ReadonlyMap<string, TerminalEvent>,
  allTerminals: readonly TerminalEvent[],
  opts: PhaseStatsOptions,
): PhaseStats {
  const mine = orders.filter((o) => o.phase === phase.label);
  const seconds = Math.max(0.001, (phase.to - phase.from) / 1000);
  const latencies: number[] = [];
  const place: number[] = [];
  const hop: number[] = [];
  const reasons: Record<string, number> = {};
  let accepted = 0;
  let failed = 0;
  let approved = 0;
  let rejected = 0;
  let pending = 0;
  let late = 0;
  let unexpected = 0;
  for (const o of mine) {
    if (o.answeredAt !== undefined) place.push(o.answeredAt - o.sentAt);
    if (o.status !== 200 || !o.orderId) {
      if (o.answeredAt !== undefined) failed++;
      continue;
    }
    accepted++;
    const t = terminal.get(o.orderId);
    if (!t) {
      pending++;
      if (opts.now - o.sentAt > opts.sloMs) late++;
      continue;
    }
    const lat = t.committedAt - o.sentAt;
    latencies.push(lat);
    hop.push(t.seenAt - t.committedAt);
    if (lat > opts.sloMs) late++;
    if (t.status === "APPROVED") approved++;
    else {
      rejected++;
      reasons[t.reason ?? "?"] = (reasons[t.reason ?? "?"] ?? 0) + 1;
    }
    if (!asExpected(o.kind, t)) unexpected++;
  }
  let inA = 0;
  let inR = 0;
  const ours = new Set(orders.map((o) => o.orderId).filter(Boolean));
  const firstSeen = new Set<string>();
  for (const e of allTerminals) {
    if (!ours.has(e.orderId) || firstSeen.has(e.orderId)) continue;
    firstSeen.add(e.orderId);
    if (e.committedAt < phase.from || e.committedAt >= phase.to) continue;
    if (e.status === "APPROVED") inA++;
    else inR++;
  }
  const errors = failed + phase.dropped;
  const tol = opts.tolerance ?? 0.01;
  let why: string | undefined;
  if (phase.issued === 0) why = "nothing issued";
  else if (errors > tol * phase.issued) why = `${errors} of ${phase.issued} place requests failed`;
  else if (late > tol * Math.max(1, accepted)) {
    why = `${late} of ${accepted} orders not terminal within ${opts.sloMs} ms`;
  }
  return {
    label: phase.label,
    rate: phase.rate,
    seconds,
    issued: phase.issued,
    accepted,
    errors,
    completed: approved + rejected,
    approved,
    rejected,
    pending,
    late,
    unexpected,
    completedPerSec: (inA + inR) / seconds,
    approvedPerSec: inA / seconds,
    rejectedPerSec: inR / seconds,
    latency: summarize(latencies),
    placeLatency: summarize(place),
    hopLatency: summarize(hop),
    rejectReasons: reasons,
    sustained: why === undefined,
    ...(why ? { why } : {}),
  };
}

/** Latency samples (place time → latency ms) of every accepted order with an outcome. */
export function latencySamples(
  orders: readonly PlacedOrder[],
  terminal: ReadonlyMap<string, TerminalEvent>,
): Sample[] {
  const out: Sample[] = [];
  for (const o of orders) {
    const t = o.orderId ? terminal.get(o.orderId) : undefined;
    if (t) out.push({ t: o.sentAt, v: t.committedAt - o.sentAt });
  }
  return out;
}

/**
 * The peak: the highest offered rate among sustained ramp steps that came before the first step
 * that was not (a later lucky step does not count). Undefined when no step was sustained.
 */
export function peakOf(steps: readonly PhaseStats[]): PhaseStats | undefined {
  let best: PhaseStats | undefined;
  for (const s of steps) {
    if (!s.sustained) break;
    if (!best || s.rate > best.rate) best = s;
  }
  return best;
}
