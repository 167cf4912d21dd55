import assert from "node:assert/strict";
import { create, toBinary } from "@bufbuild/protobuf";
import { events } from "@stocklet/shared/proto";
import { SERVICE_NAMES } from "@stocklet/shared/topology";
import { parseChaosArgs } from "./chaos.ts";
import { rebalanced } from "./rebalance.ts";
import { CONSUMING_SERVICES, scaleEnv } from "./target.ts";
import { anatomy, hopsBetween } from "./anatomy.ts";
import { cpuPerOrder, pgRoleOf } from "./cpu.ts";
import { cpuModelOf, memTotalGiBOf } from "./machine.ts";
import { BEYOND_CORE } from "./apps.ts";
import { parseBenchArgs } from "./main.ts";
import { parseWrkOutput } from "./reads.ts";
import { diffFingerprints, tableCount } from "./replay.ts";
import { type BenchResult, chartSpec, compareRows, markdown, slope } from "./report.ts";
import {
  cpuShare,
  foldSample,
  type GroupPeak,
  machineBusySeconds,
  readSample,
  RssSampler,
} from "./rss.ts";
import { summarize } from "./stats.ts";
import { renderChart } from "./svg.ts";
import { servesTraceStore, TRACE_STORE } from "./processes.ts";
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

Deno.test("anatomy: the hops applied between two snapshots, per consumer and topic", () => {
  const hop = (topic: string, relayMs: number) => ({ topic, relayMs, deliverMs: 2, applyMs: 3 });
  const before = { applied: 10, hops: [hop("a", 99)] };
  const after = { applied: 13, hops: [hop("a", 99), hop("a", 10), hop("b", 20), hop("a", 30)] };
  assert.deepEqual(hopsBetween(before, after).map((h) => h.relayMs), [10, 20, 30]);
  assert.deepEqual(
    hopsBetween({ applied: 50, hops: [] }, { applied: 1, hops: [hop("a", 7)] }).length,
    1,
  );
  const a = anatomy(new Map([["order", before]]), new Map([["order", after]]));
  assert.deepEqual(a.rows.map((r) => [r.topic, r.total.n]), [["a", 2], ["b", 1]]);
  assert.equal(a.all.total.n, 3);
  assert.equal(a.all.relay.max, 30);
  assert.equal(a.all.total.min, 15, "relay + deliver + apply");
});

Deno.test("cpu: PostgreSQL backends by role, cores and ms per order", () => {
  assert.equal(
    pgRoleOf("postgres: stocklet_order stocklet 127.0.0.1(4242) idle"),
    "postgres: order",
  );
  assert.equal(
    pgRoleOf("postgres: walsender stocklet 127.0.0.1(1) START_REPLICATION"),
    "postgres: relay walsender",
  );
  assert.equal(
    pgRoleOf("postgres: stocklet stocklet 127.0.0.1(9) SELECT"),
    "postgres: admin (bench poller, tools)",
  );
  assert.equal(pgRoleOf("postgres: checkpointer "), "postgres: background");
  const c = cpuPerOrder(
    new Map([["kafka", 10], ["edge", 5]]),
    new Map([["kafka", 13], ["edge", 6]]),
    10,
    200,
  );
  assert.deepEqual(c.rows.map((r) => [r.name, r.cores, r.msPerOrder]), [["kafka", 0.3, 15], [
    "edge",
    0.1,
    5,
  ]]);
  assert.equal(Math.round(c.total.msPerOrder), 20);
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
  const kinds = { ok: 0, stock: 0, balance: 0, cancel: 0 };
  for (let i = 0; i < 2000; i++) {
    const o = chooseOrder(r, f, parseMix("80/10/10"));
    kinds[o.kind]++;
    assert.equal(o.customer.id, o.kind === "balance" ? "p" : "r");
    assert.equal("x" in o.cart, o.kind === "stock");
    assert.ok(Object.values(o.cart).every((q) => q >= 1 && q <= 3));
  }
  assert.ok(Math.abs(kinds.ok / 2000 - 0.8) < 0.04, JSON.stringify(kinds));
  assert.equal(kinds.cancel, 0, "the bench's mix cancels nothing");
  // The chaos mix: a tenth cancelled by rich customers, with carts that can be approved.
  const chaos = { ok: 0, stock: 0, balance: 0, cancel: 0 };
  for (let i = 0; i < 2000; i++) {
    const o = chooseOrder(r, f, parseMix("70/10/10/10"));
    chaos[o.kind]++;
    if (o.kind === "cancel") assert.ok(o.customer.id === "r" && !("x" in o.cart));
  }
  assert.ok(Math.abs(chaos.cancel / 2000 - 0.1) < 0.03, JSON.stringify(chaos));
  assert.deepEqual(parseMix("80/10/10"), { ok: 80, stock: 10, balance: 10 });
  assert.throws(() => parseMix("1/2/3/4/5"));
});

Deno.test("args: defaults, quick mode and validation", () => {
  const full = parseBenchArgs([]);
  assert.equal(full.name, "latest");
  assert.equal(full.seconds, 20);
  assert.deepEqual(full.rates, [60, 120, 150, 180]);
  assert.deepEqual(full.closed, [64, 128]);
  assert.deepEqual(full.overload, [1.2, 2]);
  const q = parseBenchArgs(["--quick", "--rates", "30"]);
  assert.equal(q.name, "quick");
  assert.deepEqual(q.rates, [30]);
  assert.throws(() => parseBenchArgs(["--stack", "prod"]));
  assert.throws(() => parseBenchArgs(["--rates", "60,x"]));
  assert.throws(() => parseBenchArgs(["--rates", "60,0"]), /not positive numbers/);
  // 0 (or nothing) skips a phase.
  const none = parseBenchArgs(["--closed", "0", "--overload", "", "--rates", "0"]);
  assert.deepEqual([none.closed, none.overload, none.rates], [[], [], []]);
  // The load generator's client: the lean one unless fetch is asked for.
  assert.equal(full.client, "lean");
  assert.equal(parseBenchArgs(["--client", "fetch"]).client, "fetch");
  assert.throws(() => parseBenchArgs(["--client", "curl"]), /lean or fetch/);
  assert.deepEqual(parseChaosArgs(["--victims", "order,kafka"]).victims, ["order", "kafka"]);
  assert.throws(() => parseChaosArgs(["--victims", "dns"]));
  assert.equal(parseChaosArgs([]).victims.length, 12, "eight services, the edge, three infra");
});

Deno.test("scale-out options: replicas and partitions reach the stack; victims are replicas", () => {
  const c = parseChaosArgs(["--replicas", "2", "--partitions", "3"]);
  assert.deepEqual([c.replicas, c.partitions, c.name], [2, 3, "chaos-scaleout-latest"]);
  // One replica of each consuming service, alternately the first and the second.
  assert.deepEqual(c.victims, [
    "order",
    "payment@1",
    "product",
    "shipping@1",
    "warehouse",
    "notification@1",
  ]);
  assert.deepEqual(parseChaosArgs(["--replicas", "2", "--victims", "order@1,edge"]).victims, [
    "order@1",
    "edge",
  ]);
  assert.throws(() => parseChaosArgs(["--victims", "order@1"]), /unknown order@1/);
  assert.throws(() => parseChaosArgs(["--replicas", "2", "--victims", "auth@1"]));
  assert.throws(() => parseChaosArgs(["--replicas", "4"]));
  assert.throws(() => parseChaosArgs(["--partitions", "0"]));
  assert.equal(parseChaosArgs(["--out", "/tmp/x", "--name", "n"]).outDir, "/tmp/x");
  assert.deepEqual(scaleEnv({ replicas: 2, partitions: 3 }), {
    STOCKLET_REPLICAS: "order=2,payment=2,product=2,shipping=2,warehouse=2,notification=2",
    STOCKLET_TOPIC_PARTITIONS: "3",
  });
  assert.deepEqual(scaleEnv({ replicas: 1 }), {});

  const b = parseBenchArgs(["--only", "peak", "--replicas", "2", "--partitions", "6"]);
  assert.equal(b.stack, "test", "scaled runs bring up the test stack their way");
  assert.equal(b.name, "peak-p6-n2");
  assert.deepEqual([b.rates, b.overload, b.alone, b.cpuSeconds, b.reads], [[], [], 0, 0, false]);
  assert.deepEqual(b.closed, [64, 128], "the peak is the closed loops");
  assert.equal(parseBenchArgs(["--replicas", "2", "--stack", "dev"]).stack, "dev");
  assert.equal(parseBenchArgs([]).replicas, 1);
  assert.throws(() => parseBenchArgs(["--only", "reads"]));
});

Deno.test("rebalanced(): Stable, every replica a member, the killed one replaced", () => {
  const before = ["a", "b"];
  assert.ok(rebalanced({ state: "Stable", members: ["a", "c"] }, before, 2));
  assert.ok(!rebalanced({ state: "Stable", members: ["a", "b"] }, before, 2), "b not gone");
  assert.ok(!rebalanced({ state: "PreparingRebalance", members: ["a", "c"] }, before, 2));
  assert.ok(!rebalanced({ state: "Stable", members: ["a"] }, before, 2), "c not joined");
  assert.ok(!rebalanced({ state: "Stable", members: ["c", "d"] }, before, 2), "a left too");
  assert.ok(rebalanced({ state: "Stable", members: ["z"] }, ["y"], 1), "one replica");
});

Deno.test("CONSUMING_SERVICES are the services whose main.ts runs reactions", async () => {
  for (const svc of SERVICE_NAMES) {
    const main = await Deno.readTextFile(new URL(`../services/${svc}/main.ts`, import.meta.url));
    assert.equal(/\breactions:/.test(main), CONSUMING_SERVICES.includes(svc), svc);
  }
});

function phase(label: string, offered: number, completedPerSec: number, p50: number, p99: number) {
  return {
    label,
    offered,
    seconds: 20,
    placed: Math.round(completedPerSec * 20),
    completedPerSec,
    p50,
    p99,
    refused: 0,
    failed: 0,
    unfinished: 0,
  };
}

function result(): BenchResult {
  const s = summarize([10, 20, 30]);
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
    stack: {
      kind: "test",
      door: "the edge",
      topicPartitions: 1,
      dbLayout: "shared",
      debeziumPollMs: 20,
    },
    config: {},
    alone: phase("one order alone", 1, 5, 90, 120),
    cpu: {
      rate: 60,
      seconds: 30,
      orders: 1800,
      rows: [{ name: "connect", cores: 0.1, msPerOrder: 1.7 }],
      total: { name: "whole stack", cores: 0.8, msPerOrder: 13.3 },
      infraCores: 0.4,
    },
    anatomy: {
      rows: [{
        service: "order",
        topic: "product.pricequotation",
        relay: s,
        deliver: s,
        apply: s,
        total: s,
      }],
      all: { relay: s, deliver: s, apply: s, total: s },
    },
    open: [
      phase("open 60/s", 60, 60, 100, 150),
      phase("open 120/s", 120, 119.9, 110, 190),
      phase("open 150/s", 150, 150, 120, 300), // p99 worse than Go's 279
    ],
    closed: [phase("closed 64", 64, 250, 250, 400), phase("closed 128", 128, 310, 400, 700)],
    peak: 310,
    overload: [
      { ...phase("2× peak", 620, 300, 400, 800), factor: 2, timeoutRejections: 0, refused: 900 },
    ],
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
    memory: {
      groups: [{ name: "kafka", kind: "infra", rssMiB: 300, pssMiB: 290, processes: 1 }],
      totalRssMiB: 1900,
      totalPssMiB: 1100,
      samples: 10,
      phases: [
        { phase: "open 60/s", pssMiB: 700, rssMiB: 1500, samples: 3 },
        { phase: "closed 128 in flight", pssMiB: 900, rssMiB: 1800, samples: 3 },
        { phase: "2× peak (620/s)", pssMiB: 1100, rssMiB: 1900, samples: 3 },
      ],
    },
    notes: ["a note"],
  };
}

Deno.test("report: each row compared with the Go original, with a verdict", () => {
  const rows = compareRows(result());
  const v = Object.fromEntries(rows.map((r) => [r.metric, r.pass]));
  assert.equal(v["open loop 60/s: completed/s · p50 / p99 ms"], true);
  assert.equal(v["open loop 150/s: completed/s · p50 / p99 ms"], false, "p99 300 ≥ 279");
  assert.equal(v["open loop 180/s: completed/s · p50 / p99 ms"], undefined, "not measured");
  assert.equal(v["closed loop, 128 in flight: completed/s"], true);
  assert.equal(v["one order alone: p50 / p99 ms (target p50 ≤ 100)"], true);
  assert.equal(v["2× the peak offered (620/s): completed/s, timeouts"], true, "300 ≥ 0.9 × 310");
  assert.equal(v["whole stack PSS at 60/s (MiB)"], true, "700 MiB: less than Go's 780");
  assert.equal(v["whole stack PSS at 128 in flight (MiB)"], false, "900 MiB: more than Go's 790");
  const highest = "whole stack PSS, highest in the run, overload included (MiB; target ≤ 1,024)";
  assert.equal(v[highest], false, "1,100 MiB is over the 1 GB target");
  assert.equal(v["product list reads/s through the edge"], false, "5,000 < 6,000");
  const closed = rows.find((r) => r.metric.startsWith("closed loop, 128"))!;
  assert.equal(closed.ratio, "×1.51");
});

Deno.test("report: markdown and chart carry the numbers", () => {
  const r = result();
  const md = markdown(r);
  assert.match(
    md,
    /\| closed loop, 128 in flight: completed\/s \| 205 \| 310\.0 \| ×1\.51 \| better \|/,
  );
  assert.match(md, /2 cores \(Test CPU\), 24 GiB/);
  assert.match(md, /!\[.*\]\(latest\.svg\)/);
  assert.match(md, /- a note/);
  assert.match(md, /\| closed 128 in flight \| 900 \| 1,800 \| 3 \|/, "the peak of each phase");
  assert.match(md, /\| connect \| 0\.100 \| 1\.70 \|/);
  const svg = renderChart(chartSpec(r));
  for (const name of ["Stocklet p50", "Stocklet p99", "Go p50", "Go p99"]) {
    assert.ok(svg.includes(`data-name="${name}"`), name);
  }
});

Deno.test("slope: least squares over (hours, MiB)", () => {
  assert.equal(slope([[0, 100], [1, 110], [2, 120]]), 10);
  assert.equal(slope([[0, 5]]), 0);
});

Deno.test("bench --apps: core by default (the Go original's work), all as shipped, nothing else", () => {
  assert.equal(parseBenchArgs([]).apps, "core");
  assert.equal(parseBenchArgs(["--apps", "all"]).apps, "all");
  assert.throws(() => parseBenchArgs(["--apps", "some"]), /expected core/);
  assert.deepEqual([...BEYOND_CORE].sort(), ["mail", "notification", "web"]);
});

Deno.test("memory: the trace store's backends are shown but not counted as the stack's", () => {
  assert.ok(servesTraceStore("postgres: stocklet traces 127.0.0.1(52600) idle"));
  assert.ok(!servesTraceStore("postgres: stocklet_order stocklet 127.0.0.1(52550) idle"));
  assert.ok(!servesTraceStore("postgres: walsender stocklet 127.0.0.1(33354) START_REPLICATION"));
  const peaks = new Map<string, GroupPeak>();
  const total = foldSample(peaks, [
    { name: "postgres", kind: "infra", rss: 1024, pss: 1024, n: 3 },
    { name: TRACE_STORE, kind: "external", rss: 4096, pss: 4096, n: 2 },
    { name: "order", kind: "app", rss: 2048, pss: 2048, n: 1 },
  ]);
  assert.deepEqual(total, { rssMiB: 3, pssMiB: 3 });
  assert.equal(peaks.get(TRACE_STORE)?.pssMiB, 4);
});

Deno.test("memory: each phase keeps the stack's own peak; a phase named again keeps one", () => {
  let kib = 0;
  const sampler = new RssSampler();
  const sample = () =>
    sampler.record(
      readSample(
        [{ name: "order", kind: "app", pids: [7] }],
        (pid) => pid === 7 ? { rss: kib * 2, pss: kib } : { rss: 0, pss: 0 },
      ),
    );
  const at = (phase: string, mib: number) => {
    kib = mib * 1024;
    sampler.phase(phase);
    sample();
  };
  at("open 60/s", 100);
  at("closed 128 in flight", 300);
  at("open 60/s", 150);
  kib = 900 * 1024;
  sample(); // the drain after a phase is still that phase's
  const report = sampler.report();
  assert.deepEqual(report.phases?.map((p) => [p.phase, p.pssMiB, p.rssMiB]), [
    ["open 60/s", 900, 1800],
    ["closed 128 in flight", 300, 600],
  ]);
  assert.equal(report.totalPssMiB, 900);
});
