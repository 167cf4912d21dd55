import assert from "node:assert/strict";
import { asExpected, latencySamples, peakOf, type PhaseStats, phaseStats } from "./analysis.ts";
import type { PhaseRun, PlacedOrder } from "./load.ts";
import type { TerminalEvent } from "./terminal.ts";

const phase: PhaseRun = {
  label: "20/s",
  rate: 20,
  from: 10_000,
  to: 12_000,
  issued: 4,
  dropped: 0,
};

function order(seq: number, kind: PlacedOrder["kind"], sentAt: number, id?: string): PlacedOrder {
  return {
    seq,
    phase: "20/s",
    kind,
    customerId: "c",
    sentAt,
    answeredAt: sentAt + 5,
    status: id ? 200 : 503,
    ...(id ? { orderId: id } : {}),
  };
}

function term(orderId: string, status: "APPROVED" | "REJECTED", at: number, reason?: string) {
  return {
    orderId,
    status,
    committedAt: at,
    seenAt: at + 4,
    eventId: `e-${orderId}`,
    ...(reason ? { reason } : {}),
  } satisfies TerminalEvent;
}

Deno.test("phaseStats: latency, split, rates, reasons and unexpected outcomes", () => {
  const orders = [
    order(0, "ok", 10_000, "a"),
    order(1, "stock", 10_500, "b"),
    order(2, "balance", 11_000, "c"),
    order(3, "ok", 11_500, "d"),
  ];
  const events = [
    term("a", "APPROVED", 10_100),
    term("b", "REJECTED", 10_650, "INSUFFICIENT_STOCK"),
    term("c", "REJECTED", 11_200, "TIMEOUT"),
    term("d", "APPROVED", 12_100), // after the window: counts for latency, not for the rate
  ];
  const s = phaseStats(phase, orders, new Map(events.map((e) => [e.orderId, e])), events, {
    sloMs: 1000,
    now: 20_000,
  });
  assert.equal(s.accepted, 4);
  assert.equal(s.approved, 2);
  assert.equal(s.rejected, 2);
  assert.equal(s.unexpected, 1, "the balance order ended in a timeout");
  assert.deepEqual(s.rejectReasons, { INSUFFICIENT_STOCK: 1, TIMEOUT: 1 });
  assert.equal(s.latency.p50, 150);
  assert.equal(s.latency.max, 600);
  assert.equal(s.completedPerSec, 1.5);
  assert.equal(s.approvedPerSec, 0.5);
  assert.equal(s.hopLatency.p50, 4);
  assert.ok(s.sustained);
});

Deno.test("phaseStats: late or failed orders make a phase unsustained", () => {
  const orders = [order(0, "ok", 10_000, "a"), order(1, "ok", 10_100, "b")];
  const events = [term("a", "APPROVED", 12_500)];
  const late = phaseStats(phase, orders, new Map(events.map((e) => [e.orderId, e])), events, {
    sloMs: 1000,
    now: 11_050, // "b" is pending but young: not late yet; "a" took 2.5 s
  });
  assert.equal(late.pending, 1);
  assert.equal(late.late, 1);
  assert.ok(!late.sustained);
  assert.match(late.why!, /not terminal within 1000 ms/);

  const failed = phaseStats(phase, [order(0, "ok", 10_000)], new Map(), [], {
    sloMs: 1000,
    now: 11_000,
  });
  assert.equal(failed.errors, 1);
  assert.match(failed.why!, /place requests failed/);
});

Deno.test("peakOf: the best sustained step before the first unsustained one", () => {
  const step = (rate: number, sustained: boolean) => ({ rate, sustained }) as PhaseStats;
  assert.equal(peakOf([step(20, true), step(40, true), step(60, false), step(80, true)])!.rate, 40);
  assert.equal(peakOf([step(20, false)]), undefined);
});

Deno.test("asExpected and latencySamples", () => {
  assert.ok(asExpected("ok", term("a", "APPROVED", 1)));
  assert.ok(asExpected("stock", term("a", "REJECTED", 1, "INSUFFICIENT_STOCK")));
  assert.ok(!asExpected("balance", term("a", "REJECTED", 1, "INSUFFICIENT_STOCK")));
  const m = new Map([["a", term("a", "APPROVED", 10_300)]]);
  assert.deepEqual(latencySamples([order(0, "ok", 10_000, "a"), order(1, "ok", 1, "z")], m), [
    { t: 10_000, v: 300 },
  ]);
});
