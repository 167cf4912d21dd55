/**
 * The bench's result document: its JSON shape, the comparison with the Go original (rows, ratios,
 * verdicts), the markdown report, and the chart spec. Pure functions.
 * @module
 */
import type { AnatomyRow } from "./anatomy.ts";
import type { PhaseFigures } from "./compare.ts";
import type { CpuRow } from "./cpu.ts";
import type { MachineInfo } from "./machine.ts";
import type { ReadResult } from "./reads.ts";
import { GO_CLOSED, GO_OPEN, GO_OTHER, ratio, REFERENCE_SETTINGS, TARGETS } from "./reference.ts";
import type { RssReport } from "./rss.ts";
import type { SoakStretch } from "./soak.ts";
import type { Summary } from "./stats.ts";
import type { ChartSpec } from "./svg.ts";

/** An overload phase: offered a multiple of the peak. */
export interface OverloadFigures extends PhaseFigures {
  /** The multiple of the peak offered. */
  factor: number;
  /** Orders of the phase the saga timeout rejected. */
  timeoutRejections: number;
}

/** Everything a bench run measured. */
export interface BenchResult {
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  stack: {
    kind: "dev" | "test";
    door: string;
    topicPartitions: number;
    /** Replicas of every consuming service (absent: 1, before it was recorded). */
    replicas?: number;
    dbLayout: string;
    debeziumPollMs: number;
    /** `core`: the Go original's work; `all`: as shipped. Absent in older results: `all`. */
    apps?: "core" | "all";
  };
  config: Record<string, unknown>;
  alone?: PhaseFigures;
  cpu?: {
    rate: number;
    seconds: number;
    orders: number;
    rows: CpuRow[];
    total: CpuRow;
    /** PostgreSQL, Kafka and Connect together (cores). */
    infraCores: number;
  };
  anatomy?: { rows: AnatomyRow[]; all: Omit<AnatomyRow, "service" | "topic"> };
  open: PhaseFigures[];
  closed: PhaseFigures[];
  /** The best closed-loop rate (orders/s). */
  peak?: number;
  overload: OverloadFigures[];
  reads: ReadResult[];
  /** Emails the mail catcher received per second during the busiest closed loop (`--apps all`). */
  emails?: { emails: number; seconds: number; perSec: number };
  memory: RssReport;
  /**
   * PSS of the whole stack over a long run at a fixed rate (`--soak`): the measured minutes after
   * the settling (bench/soak.ts). Results before 2026-12-02 have no settling: their samples and
   * slope are the whole soak's.
   */
  soak?: {
    rate: number;
    minutes: number;
    samples: Array<[number, number]>;
    /** Least-squares slope of PSS over the measured minutes (MiB per hour). */
    slopeMiBPerHour: number;
    /** Each process group's PSS (MiB) at the first and the last sample (absent in older results). */
    groups?: Record<string, [number, number]>;
    /** Each process group's slope over the measured minutes (MiB per hour; absent in older). */
    groupSlopes?: Record<string, number>;
    /** Minutes at the rate before the measured ones (absent in older results). */
    settleMinutes?: number;
    /** The settling's samples (negative minutes) and slope (absent in older results). */
    settling?: SoakStretch;
  };
  notes: string[];
}

/** One line of the comparison. */
export interface CompareRow {
  metric: string;
  go: string;
  stocklet: string;
  ratio: string;
  /** Better than the Go original (or the target), where there is a verdict. */
  pass?: boolean;
}

const fmt = (v: number | undefined, digits = 0): string =>
  v === undefined || !Number.isFinite(v)
    ? "–"
    : v.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** The comparison with the Go original, row by row (issue 12's table, then the other figures). */
export function compareRows(r: BenchResult): CompareRow[] {
  const rows: CompareRow[] = [];
  for (const go of GO_OPEN) {
    const ours = r.open.find((f) => f.offered === go.offered);
    rows.push({
      metric: `open loop ${go.offered}/s: completed/s · p50 / p99 ms`,
      go: `${go.completed} · ${go.p50} / ${go.p99}`,
      stocklet: ours
        ? `${fmt(ours.completedPerSec, 1)} · ${fmt(ours.p50)} / ${fmt(ours.p99)}`
        : "not measured",
      ratio: ours ? `p99 ${ratio(ours.p99, go.p99)}` : "–",
      ...(ours
        ? {
          pass: ours.p99 < go.p99 && ours.p50 < go.p50 &&
            ours.completedPerSec >= go.completed * 0.98,
        }
        : {}),
    });
  }
  for (const go of GO_CLOSED) {
    const ours = r.closed.find((f) => f.offered === go.inFlight);
    rows.push({
      metric: `closed loop, ${go.inFlight} in flight: completed/s`,
      go: String(go.completed),
      stocklet: ours ? fmt(ours.completedPerSec, 1) : "not measured",
      ratio: ours ? ratio(ours.completedPerSec, go.completed) : "–",
      ...(ours ? { pass: ours.completedPerSec > go.completed } : {}),
    });
  }
  if (r.alone) {
    rows.push({
      metric: "one order alone: p50 / p99 ms (target p50 ≤ 100)",
      go: `${GO_OTHER.oneOrderP50} / –`,
      stocklet: `${fmt(r.alone.p50)} / ${fmt(r.alone.p99)}`,
      ratio: ratio(r.alone.p50, GO_OTHER.oneOrderP50),
      pass: r.alone.p50 <= TARGETS.oneOrderP50Ms,
    });
  }
  if (r.cpu) {
    rows.push({
      metric: `whole machine at ${r.cpu.rate}/s: cores (infrastructure)`,
      go: `${GO_OTHER.coresAt60} (${GO_OTHER.infraCoresAt60})`,
      stocklet: `${fmt(r.cpu.total.cores, 2)} (${fmt(r.cpu.infraCores, 2)})`,
      ratio: ratio(r.cpu.total.cores, GO_OTHER.coresAt60),
      pass: r.cpu.total.cores < GO_OTHER.coresAt60,
    });
  }
  for (const o of r.overload) {
    const peak = r.peak ?? NaN;
    rows.push({
      metric: `${o.factor}× the peak offered (${o.offered}/s): completed/s, timeouts`,
      go: "degrades gracefully",
      stocklet:
        `${fmt(o.completedPerSec, 1)} (${fmt((o.completedPerSec / peak) * 100)} % of peak), ` +
        `${o.timeoutRejections} timeouts, ${o.refused} refused (429)`,
      ratio: "–",
      pass: o.completedPerSec >= peak * TARGETS.overloadShare && o.timeoutRejections === 0,
    });
  }
  // The Go original's memory was measured at 60/s and at 128 in flight: those phases are the
  // like-for-like rows; the whole run's peak (the overload phases included) is judged on the target.
  const atPhase = (name: string) => r.memory.phases?.find((p) => p.phase === name)?.pssMiB;
  const like: Array<[string, string, number]> = [
    ["open 60/s", "at 60/s", GO_OTHER.pssAt60MiB],
    ["closed 128 in flight", "at 128 in flight", GO_OTHER.pssAt128MiB],
  ];
  for (const [phase, words, go] of like) {
    const mib = atPhase(phase);
    if (mib === undefined) continue;
    rows.push({
      metric: `whole stack PSS ${words} (MiB)`,
      go: String(go),
      stocklet: fmt(mib),
      ratio: ratio(mib, go),
      pass: mib <= TARGETS.pssMiB && mib < go,
    });
  }
  rows.push({
    metric: "whole stack PSS, highest in the run, overload included (MiB; target ≤ 1,024)",
    go: "–",
    stocklet: fmt(r.memory.totalPssMiB),
    ratio: "–",
    pass: r.memory.totalPssMiB <= TARGETS.pssMiB,
  });
  if (r.soak) {
    rows.push({
      metric: `PSS over ${r.soak.minutes} min at ${r.soak.rate}/s` +
        (r.soak.settling ? " (after settling)" : "") + ": slope (MiB/h)",
      go: "flat",
      stocklet: fmt(r.soak.slopeMiBPerHour, 1),
      ratio: "–",
      pass: Math.abs(r.soak.slopeMiBPerHour) < 20,
    });
  }
  const list = r.reads.find((x) => x.name === "product list");
  if (list) {
    rows.push({
      metric: "product list reads/s through the edge",
      go: "–",
      stocklet: fmt(list.rps),
      ratio: "–",
      pass: list.rps >= TARGETS.productReadsPerSec,
    });
  }
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

/** Header of the comparison table. */
export const COMPARE_HEADER = ["metric", "Go original", "Stocklet", "ratio", "verdict"] as const;

/** The comparison rows as strings. */
export function compareCells(rows: readonly CompareRow[]): string[][] {
  return rows.map((x) => [
    x.metric,
    x.go,
    x.stocklet,
    x.ratio,
    x.pass === undefined ? "" : x.pass ? "better" : "NOT better",
  ]);
}

const s3 = (s: Summary) => [fmt(s.p50), fmt(s.p95), fmt(s.p99)];

/** The markdown report (bench/results/latest.md). */
export function markdown(r: BenchResult): string {
  const L: string[] = [];
  L.push(
    "# Stocklet saga benchmark — latest run",
    "",
    `Run ${r.startedAt} → ${r.finishedAt} on ${r.machine.nproc} cores (${r.machine.cpuModel}), ` +
      `${r.machine.memTotalGiB} GiB, ${r.machine.os} ${r.machine.kernel}, Deno ${r.machine.deno}. ` +
      "Everything — PostgreSQL, Kafka, Kafka Connect, the services, the edge and the load " +
      `generator — shares those cores. Stack: ${r.stack.kind}, requests through ${r.stack.door}, ` +
      `${r.stack.topicPartitions} partition(s) per topic, ` +
      `${r.stack.replicas ?? 1} replica(s) of each consuming service, ` +
      `database layout \`${r.stack.dbLayout}\`, Debezium poll ${r.stack.debeziumPollMs} ms. ` +
      (r.stack.apps === "core"
        ? "Apps: the Go original's work — the seven saga services and the edge (the web front, " +
          "the notification service and the mail catcher left out: the Go original has neither)."
        : "Apps: as shipped — the saga services, the edge, the web front (its read model " +
          "consumes every saga event), the notification service and the local mail catcher."),
    "",
    `Method (the Go original's, issue 12): ${REFERENCE_SETTINGS.method}. Reference settings: ` +
      `${REFERENCE_SETTINGS.infrastructure}, Debezium poll ${REFERENCE_SETTINGS.debeziumPollMs} ms, ` +
      `${REFERENCE_SETTINGS.partitionsPerTopic} partition per topic. ` +
      (r.config.client === "lean"
        ? "The load generator's HTTP client: keep-alive HTTP/1.1 over raw sockets " +
          "(bench/http1.ts, about half of fetch's CPU per request; the reference table was " +
          "measured with fetch: `--client fetch`)."
        : "The load generator's HTTP client: fetch (as the reference table was measured)."),
    "",
    "![latency and throughput by offered rate](latest.svg)",
    "",
    "## Against the Go original",
    "",
    mdTable([...COMPARE_HEADER], compareCells(compareRows(r))),
    "",
  );
  const phases = [...(r.alone ? [r.alone] : []), ...r.open, ...r.closed, ...r.overload];
  L.push(
    "## Phases",
    "",
    mdTable(
      [
        "phase",
        "seconds",
        "placed",
        "completed/s",
        "p50 ms",
        "p99 ms",
        "refused",
        "failed",
        "unfinished",
      ],
      phases.map((f) => [
        f.label,
        fmt(f.seconds),
        fmt(f.placed),
        fmt(f.completedPerSec, 1),
        fmt(f.p50),
        fmt(f.p99),
        fmt(f.refused),
        fmt(f.failed),
        fmt(f.unfinished),
      ]),
    ),
    "",
  );
  if (r.cpu) {
    L.push(
      `## CPU per order at ${r.cpu.rate} orders/s (${r.cpu.seconds} s, ${r.cpu.orders} orders)`,
      "",
      mdTable(
        ["process", "cores", "CPU ms per order"],
        [...r.cpu.rows, r.cpu.total].filter((x) => x.cores >= 0.005).map((x) => [
          x.name,
          fmt(x.cores, 3),
          fmt(x.msPerOrder, 2),
        ]),
      ),
      "",
    );
  }
  if (r.anatomy) {
    L.push(
      "## Anatomy of a hop (same run)",
      "",
      "From the outbox row's commit to the commit of the transaction that applied it: the relay " +
        "reading it from the WAL (Debezium's record timestamp − the row's `created_at`), the " +
        "trip to the consumer (Connect, the broker, the fetch), and applying it (ms).",
      "",
      mdTable(
        [
          "topic",
          "consumer",
          "n",
          "relay p50/p95/p99",
          "deliver p50/p95/p99",
          "apply p50/p95/p99",
          "total p50/p95/p99",
        ],
        [...r.anatomy.rows, { service: "all", topic: "every hop", ...r.anatomy.all }].map((x) => [
          x.topic,
          x.service,
          fmt(x.total.n),
          s3(x.relay).join(" / "),
          s3(x.deliver).join(" / "),
          s3(x.apply).join(" / "),
          s3(x.total).join(" / "),
        ]),
      ),
      "",
    );
  }
  if (r.reads.length) {
    L.push(
      "## Reads",
      "",
      mdTable(
        ["read", "url", "connections", "reads/s", "p50 ms", "p99 ms"],
        r.reads.map((x) => [
          x.name,
          x.url,
          fmt(x.connections),
          fmt(x.rps),
          fmt(x.latencyMs.p50, 2),
          fmt(x.latencyMs.p99, 2),
        ]),
      ),
      "",
    );
  }
  if (r.emails) {
    L.push(
      "## Emails",
      "",
      `The notification service's emails received by the mail catcher (SMTP) during the busiest ` +
        `closed loop: **${fmt(r.emails.perSec)}/s** (${fmt(r.emails.emails)} in ` +
        `${fmt(r.emails.seconds)} s).`,
      "",
    );
  }
  L.push(
    "## Memory",
    "",
    `Whole stack at its peak: **${fmt(r.memory.totalPssMiB)} MiB PSS** (shared pages split ` +
      `fairly), ${fmt(r.memory.totalRssMiB)} MiB RSS summed (counts shared pages once per ` +
      `process), over ${r.memory.samples} samples.`,
    "",
    mdTable(
      ["process", "peak PSS MiB", "peak RSS MiB", "processes"],
      r.memory.groups.map((g) => [g.name, fmt(g.pssMiB), fmt(g.rssMiB), fmt(g.processes)]),
    ),
    "",
  );
  if (r.memory.phases?.length) {
    L.push(
      "The whole stack's peak during each phase (a phase's figure includes the drain after it):",
      "",
      mdTable(
        ["phase", "peak PSS MiB", "peak RSS MiB", "samples"],
        r.memory.phases.map((p) => [p.phase, fmt(p.pssMiB), fmt(p.rssMiB), fmt(p.samples)]),
      ),
      "",
    );
  }
  if (r.soak) {
    const settled = r.soak.settling
      ? `After ${minutes(r.soak.settleMinutes ?? 0)} at ` +
        `${r.soak.rate} orders/s to settle (PSS ${fmt(r.soak.settling.samples[0]?.[1])} → ` +
        `${fmt(r.soak.settling.samples.at(-1)?.[1])} MiB, ` +
        `${fmt(r.soak.settling.slopeMiBPerHour, 1)} MiB/h), over the next ${
          minutes(r.soak.minutes)
        }`
      : `Over ${minutes(r.soak.minutes)} at ${r.soak.rate} orders/s`;
    L.push(
      `${settled} the whole stack's PSS went from ` +
        `${fmt(r.soak.samples[0]?.[1])} to ${fmt(r.soak.samples.at(-1)?.[1])} MiB ` +
        `(least-squares slope ${fmt(r.soak.slopeMiBPerHour, 1)} MiB/h). The trace store and the ` +
        "load generator are not counted." +
        (r.soak.groups
          ? " First → last sample per process group (MiB" +
            (r.soak.groupSlopes ? "; slope in MiB/h" : "") + "): " +
            Object.entries(r.soak.groups).map(([g, [a, b]]) =>
              `${g} ${fmt(a)} → ${fmt(b)}` +
              (r.soak!.groupSlopes?.[g] !== undefined
                ? ` (${fmt(r.soak!.groupSlopes[g]!, 1)})`
                : "")
            ).join(", ") +
            "."
          : ""),
      "",
    );
  }
  if (r.notes.length) L.push("## Notes", "", ...r.notes.map((n) => `- ${n}`), "");
  return L.join("\n");
}

/** The chart: latency and completions by offered rate, Stocklet against the Go original. */
export function chartSpec(r: BenchResult): ChartSpec {
  const open = [...r.open].sort((a, b) => a.offered - b.offered);
  return {
    title: "Stocklet vs the Go original, same machine, same method",
    subtitle: `${r.machine.nproc} cores · ${r.startedAt.slice(0, 10)} · open loop at fixed rates`,
    xLabel: "offered orders/s",
    panels: [
      {
        title: "place → terminal latency",
        yLabel: "ms",
        series: [
          { name: "Stocklet p50", color: "#2563eb", points: open.map((f) => [f.offered, f.p50]) },
          { name: "Stocklet p99", color: "#1e3a8a", points: open.map((f) => [f.offered, f.p99]) },
          {
            name: "Go p50",
            color: "#f59e0b",
            dashed: true,
            points: GO_OPEN.map((g) => [g.offered, g.p50]),
          },
          {
            name: "Go p99",
            color: "#b45309",
            dashed: true,
            points: GO_OPEN.map((g) => [g.offered, g.p99]),
          },
        ],
      },
      {
        title: "completed orders/s",
        yLabel: "orders/s",
        series: [
          {
            name: "Stocklet",
            color: "#2563eb",
            points: open.map((f) => [f.offered, f.completedPerSec]),
          },
          {
            name: "Go",
            color: "#f59e0b",
            dashed: true,
            points: GO_OPEN.map((g) => [g.offered, g.completed]),
          },
        ],
      },
    ],
  };
}

const minutes = (n: number): string => `${fmt(n)} minute${n === 1 ? "" : "s"}`;

/** Least-squares slope of y over x (x in hours → MiB per hour). */
export function slope(points: ReadonlyArray<readonly [number, number]>): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}
