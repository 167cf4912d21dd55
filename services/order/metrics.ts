/**
 * The saga's instruments, recorded by the order's steps once their transaction committed
 * (`tx.afterCommit`, so a retried or rolled-back step never counts twice):
 *
 * - `stocklet.saga.started` ({order}): orders placed;
 * - `stocklet.saga.completed` ({order}) by `stocklet.saga.outcome` (`approved`, `rejected`,
 *   `cancelled`) and, for a rejection, `stocklet.saga.reason` (`insufficient_stock`, `timeout`, …);
 * - `stocklet.saga.duration` (s) by outcome: place → terminal, from the order's `created_at`.
 * @module
 */
import type { Attributes } from "@opentelemetry/api";
import type { Tx } from "@stocklet/shared/db";
import { LATENCY_BUCKETS, meter, SummedCounter } from "@stocklet/shared/metrics";
import { RejectReason } from "./domain.ts";

const started = new SummedCounter("stocklet.saga.started", {
  description: "Orders placed (sagas started)",
  unit: "{order}",
});
const completed = new SummedCounter("stocklet.saga.completed", {
  description: "Sagas ended, by outcome (approved, rejected, cancelled) and rejection reason",
  unit: "{order}",
});
const duration = meter.createHistogram("stocklet.saga.duration", {
  description: "Place → terminal status of an order, by outcome",
  unit: "s",
  advice: { explicitBucketBoundaries: [...LATENCY_BUCKETS] },
});

/** How a saga ended. */
export type SagaOutcome = "approved" | "rejected" | "cancelled";

const outcomeSets = new Map<string, { count: Attributes; time: Attributes }>();

/** A reject reason as the instruments name it (`insufficient_stock`). */
export function reasonName(reason: RejectReason): string {
  return (RejectReason[reason] ?? String(reason)).toLowerCase();
}

function setsOf(outcome: SagaOutcome, reason: string | undefined) {
  const key = `${outcome} ${reason ?? ""}`;
  let sets = outcomeSets.get(key);
  if (!sets) {
    const time = { "stocklet.saga.outcome": outcome };
    sets = { count: reason ? { ...time, "stocklet.saga.reason": reason } : time, time };
    outcomeSets.set(key, sets);
  }
  return sets;
}

const NONE: Attributes = {};

/** Counts a placed order once `tx` commits. */
export function sagaStarted(tx: Tx): void {
  tx.afterCommit(() => started.add(1, NONE));
}

/** Counts a saga's end and its place → terminal time once `tx` commits. */
export function sagaEnded(
  tx: Tx,
  outcome: SagaOutcome,
  createdAt: Date,
  reason?: RejectReason,
): void {
  const sets = setsOf(outcome, reason === undefined ? undefined : reasonName(reason));
  tx.afterCommit(() => {
    completed.add(1, sets.count);
    duration.record(Math.max(0, Date.now() - createdAt.getTime()) / 1000, sets.time);
  });
}
