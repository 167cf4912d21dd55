/**
 * The bench's result document: its JSON shape, the targets table (metric, target, measured,
 * pass/fail), the markdown summary for the README, and the chart spec. Pure functions.
 * @module
 */
import type { PhaseStats } from "./analysis.ts";
import type { LagReport } from "./lag.ts";
import type { MachineInfo } from "./machine.ts";
import type { ReadResult } from "./reads.ts";
import type { RssReport } from "./rss.ts";
import type { Bucket, Summary } from "./stats.ts";
import type { ChartSpec, Series } from "./svg.ts";

/** Per-second series of the run, for the chart (t in seconds from the run's start). */
export interface Timeline {
  /** Latency by place time: p50/p99 of orders sent in each second. */
  latency: Bucket[];
  /** Orders sent per second. */
  offered: Array<[number, number]>;
  /** Terminal commits per second. */
  approved: Array<[number, number]>;
  rejected: Array<[number, number]>;
  /** Phases (seconds from the start). */
  phases: Array<{ label: string; from: number; to: number }>;
}

/** Everything a bench run measured. */
export interface BenchResult {
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  stack: {
    kind: "dev" | "test";
    /** Where requests went: the edge, or the services directly. */
    door: string;
    topicPartitions: number;
  };
  config: Record<string, unknown>;
  /** The ramp's steps, in order. */
  ramp: PhaseStats[];
  /** The highest sustained step (undefined: none was). */
  peak?: {
    rate: number;
    completedPerSec: number;
    approvedPerSec: number;
    rejectedPerSec: number;
    /** The highest completion rate seen in any step. */
    maxCompletedPerSec: number;
  };
  /** The steady run at half the peak. */
  half?: PhaseStats;
  /** Services' outbox → consumer lag during the half-peak run. */
  lag?: LagReport;
  /** Cores used per process during the half-peak run, biggest first. */
  cpu?: Array<{ name: string; cores: number }>;
  reads: ReadResult[];
  rss: RssReport;
  timeline: Timeline;
  notes: string[];
}

/** One line of the targets table. */
export interface TargetRow {
  metric: string;
  /** The Go reference on this machine, where there is one. */
  reference: string;
  target: string;
  measured: string;
  /** Undefined: informational, no verdict. */
  pass?: boolean;
}

/** The published targets. */
export const TARGETS = {
  peakOrdersPerSec: 165,
  halfPeakP99Ms: 140,
  hopP99Ms: 50,
  readsPerSec: 6000,
  stackRssMiB: 1024,
} as const;

function n(v: number | undefined, digits = 0): string {
  if (v === undefined || !Number.isFinite(v)) return "n/a";
  return v.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

function verdict(v: number | undefined, ok: (v: number) => boolean): boolean {
  return v !== undefined && Number.isFinite(v) && ok(v);
}

/** The targets table of a result. */
export function targetRows(r: BenchResult): TargetRow[] {
  const list = r.reads.find((x) => x.name === "product list");
  const order = r.reads.find((x) => x.name === "order by id");
  const half = r.half;
  const hop = r.lag?.all;
  const rows: TargetRow[] = [
    {
      metric: "peak orders/s (sustained, open loop)",
      reference: "110",
      target: `≥ ${TARGETS.peakOrdersPerSec}`,
      measured: r.peak
        ? `${n(r.peak.rate)} offered (${n(r.peak.approvedPerSec, 1)} approved + ${
          n(r.peak.rejectedPerSec, 1)
        } rejected /s)`
        : "none sustained",
      pass: verdict(r.peak?.rate, (v) => v >= TARGETS.peakOrdersPerSec),
    },
    {
      metric: "place → terminal p99 at half peak",
      reference: "143 ms",
      target: `≤ ${TARGETS.halfPeakP99Ms} ms`,
      measured: half
        ? `${n(half.latency.p99)} ms (p50 ${n(half.latency.p50)}, p95 ${n(half.latency.p95)}) at ${
          n(half.rate)
        }/s`
        : "n/a",
      pass: verdict(half?.latency.p99, (v) => v <= TARGETS.halfPeakP99Ms),
    },
    {
      metric: "outbox commit → consumer p99 (one hop)",
      reference: "",
      target: `≤ ${TARGETS.hopP99Ms} ms`,
      measured: hop ? `${n(hop.p99)} ms (p50 ${n(hop.p50)}, ${n(hop.n)} events)` : "n/a",
      pass: verdict(hop?.p99, (v) => v <= TARGETS.hopP99Ms),
    },
    {
      metric: `GET /v1/product/list reads/s (${r.stack.door})`,
      reference: "6,000",
      target: `≥ ${n(TARGETS.readsPerSec)}`,
      measured: list
        ? `${
          n(list.rps)
        } (p50 ${list.latencyMs.p50} ms, p99 ${list.latencyMs.p99} ms, c=${list.connections})`
        : "n/a",
      pass: verdict(list?.rps, (v) => v >= TARGETS.readsPerSec),
    },
    {
      metric: `GET /v1/order/orders/{id} reads/s (${r.stack.door})`,
      reference: "",
      target: "",
      measured: order
        ? `${
          n(order.rps)
        } (p50 ${order.latencyMs.p50} ms, p99 ${order.latencyMs.p99} ms, c=${order.connections})`
        : "n/a",
    },
    {
      metric: "whole stack peak RSS",
      reference: "",
      target: `≤ ${n(TARGETS.stackRssMiB)} MiB`,
      measured: `${n(r.rss.totalRssMiB)} MiB`,
      pass: verdict(r.rss.totalRssMiB, (v) => v > 0 && v <= TARGETS.stackRssMiB),
    },
    {
      metric: "whole stack peak PSS (shared pages split)",
      reference: "",
      target: "",
      measured: `${n(r.rss.totalPssMiB)} MiB`,
    },
  ];
  return rows;
}

function cell(s: string): string {
  return s.replaceAll("|", "\\|");
}

/** A plain-text table with aligned columns. */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: readonly string[]) =>
    r.map((c, i) => (c ?? "").padEnd(widths[i]!)).join("  ").trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** A markdown table. */
export function mdTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [
    `| ${header.map(cell).join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.map(cell).join(" | ")} |`),
  ].join("\n");
}

/** The targets table rows as strings (verdict column included). */
export function targetCells(rows: readonly TargetRow[]): string[][] {
  return rows.map((r) => [
    r.metric,
    r.reference,
    r.target,
    r.measured,
    r.pass === undefined ? "" : r.pass ? "PASS" : "FAIL",
  ]);
}

/** Header of the targets table. */
export const TARGET_HEADER = ["metric", "Go ref", "target", "measured", "verdict"] as const;

function summaryCells(s: Summary): string[] {
  return [n(s.p50), n(s.p95), n(s.p99), n(s.max)];
}

/** The markdown summary (for bench/results/latest.md and the README's performance section). */
export function markdown(r: BenchResult): string {
  const m = r.machine;
  const out: string[] = [];
  out.push("# Stocklet saga benchmark — latest run", "");
  out.push(
    `Run ${r.startedAt} → ${r.finishedAt} on ${m.nproc} cores (${m.cpuModel}), ` +
      `${m.memTotalGiB} GiB RAM, Linux ${m.kernel}, Deno ${m.deno} (V8 ${m.v8}). ` +
      `Everything — PostgreSQL, Kafka, Kafka Connect, the seven services, the edge and the load ` +
      `generator — shares those cores. Stack: ${r.stack.kind}, requests through ${r.stack.door}, ` +
      `${r.stack.topicPartitions} partitions per topic.`,
    "",
  );
  out.push("![latency and throughput over the run](latest.svg)", "");
  out.push("## Targets", "");
  out.push(mdTable(TARGET_HEADER, targetCells(targetRows(r))), "");
  out.push("## Ramp (open loop)", "");
  out.push(
    mdTable(
      [
        "offered/s",
        "completed/s",
        "approved/s",
        "rejected/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
        "errors",
        "sustained",
      ],
      r.ramp.map((s) => [
        n(s.rate),
        n(s.completedPerSec, 1),
        n(s.approvedPerSec, 1),
        n(s.rejectedPerSec, 1),
        ...summaryCells(s.latency),
        n(s.errors),
        s.sustained ? "yes" : `no: ${s.why ?? ""}`,
      ]),
    ),
    "",
  );
  if (r.half) {
    const h = r.half;
    out.push(`## Half of the peak: ${n(h.rate)} orders/s for ${n(h.seconds)} s`, "");
    out.push(
      mdTable(["measure", "n", "p50 ms", "p95 ms", "p99 ms", "max ms"], [
        ["place → terminal (outbox commit)", n(h.latency.n), ...summaryCells(h.latency)],
        ["place request (HTTP answer)", n(h.placeLatency.n), ...summaryCells(h.placeLatency)],
        [
          "terminal commit → bench consumer (one hop)",
          n(h.hopLatency.n),
          ...summaryCells(h.hopLatency),
        ],
        ...Object.entries(r.lag?.perService ?? {}).map(([svc, s]) => [
          `outbox → ${svc} consumer (handled)`,
          n(s.n),
          ...summaryCells(s),
        ]),
      ]),
      "",
    );
    out.push(
      `Completed ${n(h.completedPerSec, 1)} orders/s: ${n(h.approvedPerSec, 1)} approved, ` +
        `${n(h.rejectedPerSec, 1)} rejected (${
          Object.entries(h.rejectReasons).map(([k, v]) => `${k} ${v}`).join(", ") || "none"
        }); ${h.unexpected} orders ended otherwise than their kind expects, ${h.errors} place ` +
        `requests failed, ${h.pending} still pending at the end.`,
      "",
    );
  }
  if (r.cpu?.length) {
    out.push(`## Where the cores went during the ${r.half?.label ?? "steady"} run`, "");
    out.push(
      mdTable(
        ["process", "cores used"],
        r.cpu.map((c) => [c.name, c.cores.toFixed(2)]),
      ),
      "",
    );
  }
  out.push("## Reads (fixed concurrency)", "");
  out.push(
    mdTable(
      ["request", "tool", "connections", "reads/s", "p50 ms", "p95 ms", "p99 ms", "errors"],
      r.reads.map((x) => [
        x.name,
        x.tool,
        n(x.connections),
        n(x.rps),
        String(x.latencyMs.p50),
        String(x.latencyMs.p95),
        String(x.latencyMs.p99),
        n(x.errors),
      ]),
    ),
    "",
  );
  out.push("## Peak memory per process", "");
  out.push(
    mdTable(
      ["process", "kind", "processes", "peak RSS MiB", "peak PSS MiB"],
      [
        ...r.rss.groups.map((g) => [g.name, g.kind, n(g.processes), n(g.rssMiB), n(g.pssMiB)]),
        ["whole stack (peak of the sum)", "", "", n(r.rss.totalRssMiB), n(r.rss.totalPssMiB)],
      ],
    ),
    "",
  );
  out.push("## How it is measured", "");
  out.push(
    "- Orders are sent open loop (the n-th order of a phase is due at n/rate s, whatever the " +
      "earlier ones did) by one Deno process with keep-alive fetches; the mix is " +
      `${String(r.config.mix)} (approved / rejected for stock / rejected for balance).`,
    "- Place → terminal latency: from the moment the place request is sent to the commit of the " +
      "order's terminal transition, read from the `created_at` header of its " +
      "`order.state.approved` / `order.state.rejected` event (a throwaway kafkajs consumer joins " +
      "the events on the order id). No polling; the consumer's own delay is not counted.",
    "- The peak is the highest offered rate of the ramp whose orders all (≥ 99 %) reached a " +
      `terminal state within ${String(r.config.sloMs)} ms with ≤ 1 % failed requests; the ramp ` +
      "stops at the first step that misses it.",
    "- Outbox lag: each service's `GET /metrics` `consumer.lagMs` (Debezium `created_at` header → " +
      "end of the handling transaction), restricted to the events applied during the half-peak run.",
    "- Reads: " + (r.reads[0]?.tool === "wrk" ? "wrk" : "a Deno fetch loop") +
      ": the product list as a visitor reads the public catalogue (no token: the service marks it " +
      "`Cache-Control: public, max-age=1`, so the edge's shared cache may answer), the order by id " +
      "with its owner's bearer token (never cached).",
    "- Memory: VmRSS and PSS from /proc of every process named by the pid files (PostgreSQL: the " +
      "postmaster and all its children), sampled every second; the total is the peak of the sum.",
    "",
  );
  if (r.notes.length) {
    out.push("## Notes", "", ...r.notes.map((x) => `- ${x}`), "");
  }
  return out.join("\n");
}

/** The chart of a run: latency over time, and throughput over time. */
export function chartSpec(r: BenchResult): ChartSpec {
  const t = r.timeline;
  const lat: Series[] = [
    { name: "p50", color: "#1f77b4", points: t.latency.map((b) => [b.t, b.p50] as const) },
    { name: "p99", color: "#d62728", points: t.latency.map((b) => [b.t, b.p99] as const) },
  ];
  const thr: Series[] = [
    { name: "offered", color: "#7f7f7f", points: t.offered, dashed: true },
    { name: "approved", color: "#2ca02c", points: t.approved },
    { name: "rejected", color: "#ff7f0e", points: t.rejected },
  ];
  const p99s = t.latency.map((b) => b.p99).filter(Number.isFinite).sort((a, b) => a - b);
  // Saturated steps can reach seconds; cap the axis so the normal range stays readable.
  const cap = p99s.length ? Math.min(p99s[p99s.length - 1]!, 2000) : 1;
  return {
    title: "Stocklet place-order saga: open-loop ramp, then half of the peak",
    subtitle: `${r.machine.nproc} cores, ${r.machine.cpuModel}; Deno ${r.machine.deno}; ` +
      `${r.startedAt}`,
    xLabel: "seconds since the start of the load",
    bands: t.phases,
    panels: [
      {
        title: "place → terminal latency (ms, by send time; axis capped at 2 s)",
        yLabel: "ms",
        series: lat,
        yMax: cap,
      },
      { title: "orders per second", yLabel: "orders/s", series: thr },
    ],
  };
}
