import assert from "node:assert/strict";
import { create, toBinary } from "@bufbuild/protobuf";
import { events } from "@stocklet/shared/proto";
import { parseChaosArgs } from "./chaos.ts";
import { lagReport, lagsBetween } from "./lag.ts";
import { cpuModelOf, memTotalGiBOf } from "./machine.ts";
import { parseBenchArgs } from "./main.ts";
import { parseWrkOutput } from "./reads.ts";
import { diffFingerprints, tableCount } from "./replay.ts";
import { type BenchResult, chartSpec, markdown, targetRows } from "./report.ts";
import { cpuShare, foldSample, type GroupPeak, machineBusySeconds } from "./rss.ts";
import { summarize } from "./stats.ts";
import { renderChart } from "./svg.ts";
import { terminalOf } from "./terminal.ts";
import { chooseOrder, type Fixture, parseMix } from "./workload.ts";
import { rng } from "./stats.ts";

Deno.test("parseWrkOutput: reads the script's JSON line (µs → ms)", () => {
  const out = "Running 10s test\nBENCHJSON " + JSON.stringify({
    requests: 60_000,
    durationUs: 10_000_000,
    connect: 0,
    read: 1,
    write: 0,
    status: 2,
    timeout: 0,
    p50: 4_100,
    p95: 9_000,
    p99: 15_250,
    max: 40_000,
    mean: 5_000.5,
  }) + "\n";
  const r = parseWrkOutput(out, { name: "product list", url: "http://x", connections: 64 });
  assert.equal(r.rps, 6000);
  assert.equal(r.errors, 3);
  assert.deepEqual(r.latencyMs, { p50: 4.1, p95: 9, p99: 15.25, max: 40, mean: 5 });
  assert.throws(() => parseWrkOutput("nothing", { name: "x", url: "", connections: 1 }));
});

Deno.test("lagsBetween: the entries applied between two snapshots", () => {
  assert.deepEqual(
    lagsBetween({ applied: 10, lagMs: [] }, { applied: 13, lagMs: [1, 2, 3, 4, 5] }),
    [
      3,
      4,
      5,
    ],
  );
  assert.deepEqual(lagsBetween({ applied: 50, lagMs: [] }, { applied: 2, lagMs: [7, 8] }), [7, 8]);
  assert.deepEqual(lagsBetween(undefined, { applied: 0, lagMs: [] }), []);
  const r = lagReport(
    new Map([["order", { applied: 1, lagMs: [] }]]),
    new Map([["order", { applied: 3, lagMs: [9, 10, 20] }], ["payment", {
      applied: 1,
      lagMs: [30],
    }]]),
  );
  assert.equal(r.all.n, 3);
  assert.equal(r.perService.order!.max, 20);
});

Deno.test("machine: cpu model and memory from /proc text", () => {
  assert.equal(cpuModelOf("processor\t: 0\nmodel name\t: AMD EPYC 7B13\n"), "AMD EPYC 7B13");
  assert.equal(cpuModelOf(""), "unknown");
  assert.equal(memTotalGiBOf("MemTotal:       25165824 kB\n"), 24);
});

Deno.test("rss: peaks per group, the stack total excludes the bench", () => {
  const peaks = new Map<string, GroupPeak>();
  foldSample(peaks, [
    { name: "kafka", kind: "infra", rss: 2048, pss: 1024, n: 1 },
    { name: "bench", kind: "bench", rss: 4096, pss: 4096, n: 1 },
  ]);
  const t = foldSample(peaks, [{ name: "kafka", kind: "infra", rss: 1024, pss: 512, n: 1 }]);
  assert.equal(peaks.get("kafka")!.rssMiB, 2);
  assert.equal(t.rssMiB, 1);
  assert.deepEqual(
    cpuShare(new Map([["a", 1], ["b", 5]]), new Map([["a", 3], ["b", 1]]), 2),
    [{ name: "a", cores: 1 }, { name: "b", cores: 0.5 }],
  );
  assert.equal(machineBusySeconds("cpu  100 0 50 1000 30 0 10 0 0 0\ncpu0 1 2 3\n"), 1.6);
  const share = cpuShare(
    new Map([["a", 0], ["whole machine", 0]]),
    new Map([["a", 1], ["whole machine", 3]]),
    1,
  );
  assert.deepEqual(share.find((x) => x.name === "other processes on the machine"), {
    name: "other processes on the machine",
    cores: 2,
  });
});

Deno.test("replay: fingerprint diffs name the changed tables", () => {
  const a = { order: { orders: "3:abc", order_items: "5:def" }, payment: { balances: "1:x" } };
  const b = { order: { orders: "3:abc", order_items: "6:xyz" }, payment: {} };
  assert.deepEqual(diffFingerprints(a, b), [
    { database: "order", table: "order_items", before: "5:def", after: "6:xyz" },
    { database: "payment", table: "balances", before: "1:x", after: "(missing)" },
  ]);
  assert.deepEqual(diffFingerprints(a, a), []);
  assert.equal(tableCount(a), 3);
});

Deno.test("terminalOf: key, commit time and rejection reason", () => {
  const value = toBinary(
    events.OrderRejectedEventSchema,
    create(events.OrderRejectedEventSchema, {
      orderId: "o1",
      reason: events.OrderRejectedEvent_Reason.PAYMENT_FAILED,
    }),
  );
  const e = terminalOf("order.state.rejected", "o1", value, {
    id: "e1",
    created_at: "2026-11-25T11:46:20.243860Z",
  }, 0);
  assert.equal(e!.reason, "PAYMENT_FAILED");
  assert.equal(e!.committedAt, Date.parse("2026-11-25T11:46:20.243Z"));
  assert.equal(terminalOf("order.state.approved", null, null, {}, 5), undefined);
  assert.equal(terminalOf("order.state.approved", "o", null, {}, 5)!.committedAt, 5);
});

Deno.test("workload: mix parsing and an order chooser that follows it", () => {
  assert.deepEqual(parseMix("80/10/10"), { ok: 80, stock: 10, balance: 10 });
  assert.throws(() => parseMix("80/20"));
  assert.throws(() => parseMix("0/0/0"));
  const cust = (id: string) => ({ id, email: "", password: "", token: "t" });
  const f: Fixture = {
    products: [{ id: "p1", priceCents: 100 }, { id: "p2", priceCents: 200 }],
    soldOut: { id: "x", priceCents: 100 },
    rich: [cust("r")],
    poor: [cust("p")],
    credits: new Map(),
    added: new Map(),
  };
  const r = rng(3);
  const kinds = { ok: 0, stock: 0, balance: 0 };
  for (let i = 0; i < 2000; i++) {
    const o = chooseOrder(r, f, parseMix("80/10/10"));
    kinds[o.kind]++;
    assert.equal(o.customer.id, o.kind === "balance" ? "p" : "r");
    assert.equal("x" in o.cart, o.kind === "stock");
    assert.ok(Object.values(o.cart).every((q) => q >= 1 && q <= 3));
  }
  assert.ok(Math.abs(kinds.ok / 2000 - 0.8) < 0.04, JSON.stringify(kinds));
});

Deno.test("args: defaults, quick mode and validation", () => {
  const full = parseBenchArgs([]);
  assert.equal(full.name, "latest");
  assert.equal(full.stepSeconds, 10);
  const q = parseBenchArgs(["--quick", "--customers", "3"]);
  assert.equal(q.name, "quick");
  assert.equal(q.customers, 3);
  assert.throws(() => parseBenchArgs(["--stack", "prod"]));
  assert.throws(() => parseBenchArgs(["--mix", "1/2"]));
  assert.deepEqual(parseChaosArgs(["--victims", "order,kafka"]).victims, ["order", "kafka"]);
  assert.throws(() => parseChaosArgs(["--victims", "dns"]));
  assert.equal(parseChaosArgs([]).victims.length, 11);
});

function result(): BenchResult {
  const s = summarize([10, 20, 30]);
  const phase = {
    label: "half peak",
    rate: 90,
    seconds: 30,
    issued: 2700,
    accepted: 2700,
    errors: 0,
    completed: 2700,
    approved: 2160,
    rejected: 540,
    pending: 0,
    late: 0,
    unexpected: 0,
    completedPerSec: 90,
    approvedPerSec: 72,
    rejectedPerSec: 18,
    latency: { ...s, p99: 120 },
    placeLatency: s,
    hopLatency: s,
    rejectReasons: { INSUFFICIENT_STOCK: 270, PAYMENT_FAILED: 270 },
    sustained: true,
  };
  return {
    startedAt: "2026-11-25T12:00:00Z",
    finishedAt: "2026-11-25T12:05:00Z",
    machine: {
      nproc: 2,
      memTotalGiB: 24,
      cpuModel: "Test CPU",
      kernel: "6.1",
      deno: "2.9.6",
      v8: "15",
      os: "linux x86_64",
    },
    stack: { kind: "test", door: "the edge", topicPartitions: 3 },
    config: { mix: "80/10/10", sloMs: 1000 },
    ramp: [{ ...phase, label: "180/s", rate: 180 }],
    peak: {
      rate: 180,
      completedPerSec: 179,
      approvedPerSec: 143,
      rejectedPerSec: 36,
      maxCompletedPerSec: 181,
    },
    half: phase,
    lag: { perService: { order: { ...s, p99: 40 } }, all: { ...s, p99: 40 } },
    reads: [{
      name: "product list",
      tool: "wrk",
      url: "u",
      connections: 64,
      seconds: 10,
      requests: 50_000,
      rps: 5000,
      errors: 0,
      latencyMs: { p50: 1, p95: 2, p99: 3, max: 4, mean: 1 },
    }],
    rss: {
      groups: [{ name: "kafka", kind: "infra", rssMiB: 300, pssMiB: 290, processes: 1 }],
      totalRssMiB: 900,
      totalPssMiB: 800,
      samples: 10,
    },
    timeline: {
      latency: [{ t: 0, count: 3, p50: 20, p99: 30 }],
      offered: [[0.5, 90]],
      approved: [[0.5, 72]],
      rejected: [[0.5, 18]],
      phases: [{ label: "half peak", from: 0, to: 30 }],
    },
    notes: ["a note"],
  };
}

Deno.test("report: verdicts against the targets", () => {
  const rows = targetRows(result());
  const v = Object.fromEntries(
    rows.map((r) => [r.metric.split(" (")[0]!.split(" reads")[0], r.pass]),
  );
  assert.equal(v["peak orders/s"], true);
  assert.equal(v["place → terminal p99 at half peak"], true);
  assert.equal(v["outbox commit → consumer p99"], true);
  assert.equal(v["GET /v1/product/list"], false, "5,000 < 6,000 reads/s");
  assert.equal(v["whole stack peak RSS"], true);
});

Deno.test("report: markdown and chart carry the numbers", () => {
  const r = result();
  const md = markdown(r);
  assert.match(md, /\| peak orders\/s \(sustained, open loop\) \| 110 \| ≥ 165 \| 180 offered/);
  assert.match(md, /2 cores \(Test CPU\), 24 GiB RAM/);
  assert.match(md, /!\[.*\]\(latest\.svg\)/);
  assert.match(md, /- a note/);
  const svg = renderChart(chartSpec(r));
  for (const name of ["p50", "p99", "offered", "approved", "rejected"]) {
    assert.ok(svg.includes(`data-name="${name}"`));
  }
});
