/**
 * `deno task bench [--quick] [--stack dev|test] [options]`: the place-order saga benchmark.
 *
 * Against the dev stack through its edge when it answers, else the test stack (brought up when
 * needed): registers and credits customers, then sends orders open loop — a warm-up, a ramp of
 * rising arrival rates to find the peak, and a steady run at half the peak — while watching every
 * order's terminal event on Kafka; then measures REST reads with wrk, and peak memory throughout.
 * Writes bench/results/latest.{json,svg,md} (`--quick`: quick.*) and prints the targets table.
 *
 * Options: --customers N (40), --mix ok/stock/balance (80/10/10), --seed N, --warmup S (5),
 * --ramp-start R (10), --ramp-step R (10), --ramp-max R (400), --step-seconds S (10),
 * --slo-ms MS (1000), --duration S (30: the half-peak run), --read-seconds S (10),
 * --read-connections N (64), --no-reads, --no-direct-reads, --out DIR, --name NAME, --keep-stack.
 * @module
 */
import "../shared/kafkajs_timer_fix.ts";
import { parseArgs } from "node:util";
import { Kafka, logLevel } from "kafkajs";
import { latencySamples, peakOf, type PhaseStats, phaseStats } from "./analysis.ts";
import { lagReport, snapshotMetrics } from "./lag.ts";
import { LoadGenerator, type PhaseRun, sleep } from "./load.ts";
import { machineInfo } from "./machine.ts";
import { ensureWrk, type ReadResult, runReads } from "./reads.ts";
import {
  type BenchResult,
  chartSpec,
  markdown,
  TARGET_HEADER,
  targetCells,
  targetRows,
  textTable,
  type Timeline,
} from "./report.ts";
import { cpuShare, cpuSnapshot, OTHERS, RssSampler } from "./rss.ts";
import { bucketize, rng } from "./stats.ts";
import { renderChart } from "./svg.ts";
import { CONSUMING_SERVICES, resolveTarget, type StackKind, type Target } from "./target.ts";
import { TerminalWatcher } from "./terminal.ts";
import { parseMix, setupFixture } from "./workload.ts";

/** The bench's settings. */
export interface BenchConfig {
  stack?: StackKind;
  quick: boolean;
  customers: number;
  mix: string;
  seed: number;
  warmupSeconds: number;
  rampStart: number;
  rampStep: number;
  rampMax: number;
  /** Skip the ramp and run the steady phase at this rate (0: find the peak first). */
  rate: number;
  stepSeconds: number;
  sloMs: number;
  durationSeconds: number;
  readSeconds: number;
  readConnections: number;
  reads: boolean;
  /** Also measure the reads straight at the services (to see the edge's share). */
  directReads: boolean;
  outDir: string;
  name: string;
  keepStack: boolean;
}

/** Parses the command line (quick mode changes the defaults, explicit options still win). */
export function parseBenchArgs(argv: string[]): BenchConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      stack: { type: "string" },
      quick: { type: "boolean", default: false },
      customers: { type: "string" },
      mix: { type: "string", default: "80/10/10" },
      seed: { type: "string", default: "42" },
      warmup: { type: "string" },
      "ramp-start": { type: "string" },
      "ramp-step": { type: "string" },
      "ramp-max": { type: "string", default: "400" },
      rate: { type: "string", default: "0" },
      "step-seconds": { type: "string" },
      "slo-ms": { type: "string", default: "1000" },
      duration: { type: "string" },
      "read-seconds": { type: "string" },
      "read-connections": { type: "string", default: "64" },
      "no-reads": { type: "boolean", default: false },
      "no-direct-reads": { type: "boolean", default: false },
      out: { type: "string", default: new URL("./results", import.meta.url).pathname },
      name: { type: "string" },
      "keep-stack": { type: "boolean", default: false },
    },
    strict: true,
  });
  const q = values.quick;
  const num = (v: string | undefined, def: number, what: string): number => {
    const x = v === undefined ? def : Number(v);
    if (!Number.isFinite(x) || x < 0) throw new Error(`--${what} ${v}: not a number`);
    return x;
  };
  if (values.stack !== undefined && values.stack !== "dev" && values.stack !== "test") {
    throw new Error(`--stack ${values.stack}: expected dev or test`);
  }
  parseMix(values.mix);
  return {
    ...(values.stack ? { stack: values.stack as StackKind } : {}),
    quick: q,
    customers: num(values.customers, q ? 10 : 40, "customers"),
    mix: values.mix,
    seed: num(values.seed, 42, "seed"),
    warmupSeconds: num(values.warmup, q ? 2 : 5, "warmup"),
    rampStart: num(values["ramp-start"], q ? 20 : 10, "ramp-start"),
    rampStep: num(values["ramp-step"], q ? 20 : 10, "ramp-step"),
    rampMax: num(values["ramp-max"], 400, "ramp-max"),
    rate: num(values.rate, 0, "rate"),
    stepSeconds: num(values["step-seconds"], q ? 3 : 10, "step-seconds"),
    sloMs: num(values["slo-ms"], 1000, "slo-ms"),
    durationSeconds: num(values.duration, q ? 5 : 30, "duration"),
    readSeconds: num(values["read-seconds"], q ? 3 : 10, "read-seconds"),
    readConnections: num(values["read-connections"], 64, "read-connections"),
    reads: !values["no-reads"],
    directReads: !values["no-direct-reads"],
    outDir: values.out,
    name: values.name ?? (q ? "quick" : "latest"),
    keepStack: values["keep-stack"],
  };
}

const t0 = Date.now();
function log(line: string): void {
  console.error(`[bench ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}`);
}

async function topicPartitions(brokers: string[]): Promise<number> {
  const admin = new Kafka({ clientId: "stocklet-bench", brokers, logLevel: logLevel.NOTHING })
    .admin();
  try {
    await admin.connect();
    const md = await admin.fetchTopicMetadata({ topics: ["order.state.created"] });
    return md.topics[0]?.partitions.length ?? 0;
  } catch {
    return 0;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** Waits until every accepted order has a terminal event (or the timeout passes). */
async function drain(
  gen: LoadGenerator,
  watcher: TerminalWatcher,
  timeoutMs: number,
): Promise<number> {
  await gen.settle();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let pending = 0;
    for (const o of gen.orders) {
      if (o.orderId && !watcher.byOrder.has(o.orderId)) pending++;
    }
    if (pending === 0 || Date.now() > deadline) return pending;
    await sleep(100);
  }
}

function perSecond(times: number[], origin: number): Array<[number, number]> {
  return bucketize(times.map((t) => ({ t, v: 0 })), origin).map((b) => [b.t + 0.5, b.count]);
}

async function appPids(target: Target): Promise<Map<string, number>> {
  const m = new Map<string, number>();
  for (const g of await target.processes()) if (g.kind === "app") m.set(g.name, g.pids[0]!);
  return m;
}

/** Runs the bench; returns the result (also written to disk). */
export async function runBench(cfg: BenchConfig): Promise<BenchResult> {
  const startedAt = new Date().toISOString();
  const notes: string[] = [];
  const target = await resolveTarget({ ...(cfg.stack ? { stack: cfg.stack } : {}), log });
  const door = target.edgeUrl ? `the edge (${target.edgeUrl})` : "the services directly (no edge)";
  log(`stack: ${target.kind}, requests through ${door}`);
  const rss = new RssSampler(() => target.processes());
  rss.start();
  const pidsBefore = await appPids(target);
  let watcher: TerminalWatcher | undefined;
  try {
    watcher = await TerminalWatcher.start(target.kafkaBrokers);
    const partitions = await topicPartitions(target.kafkaBrokers);
    const mix = parseMix(cfg.mix);
    const fixture = await setupFixture(target.api, {
      customers: cfg.customers,
      poorCustomers: Math.max(1, Math.ceil(cfg.customers / 4)),
      products: 20,
      stockPerProduct: 1_000_000,
      log,
    });
    const gen = new LoadGenerator(target.api, fixture, mix, { rand: rng(cfg.seed) });
    const origin = Date.now();
    const phases: PhaseRun[] = [];

    log(`warm-up: ${cfg.rampStart / 2}/s for ${cfg.warmupSeconds} s`);
    phases.push(await gen.run("warm-up", cfg.rampStart / 2, cfg.warmupSeconds * 1000));
    await drain(gen, watcher, 30_000);

    // The ramp: each step is judged when it ends (young pending orders are not late yet); the
    // final verdicts are recomputed once everything drained.
    const steps: PhaseRun[] = [];
    for (
      let rate = cfg.rampStart;
      cfg.rate === 0 && rate <= cfg.rampMax;
      rate += cfg.rampStep
    ) {
      const step = await gen.run(`${rate}/s`, rate, cfg.stepSeconds * 1000);
      steps.push(step);
      phases.push(step);
      const s = phaseStats(step, gen.orders, watcher.byOrder, watcher.all, {
        sloMs: cfg.sloMs,
        now: Date.now(),
      });
      log(
        `ramp ${rate}/s: ${s.completedPerSec.toFixed(1)} completed/s, p50 ${
          s.latency.p50.toFixed(0)
        } ms, p99 ${s.latency.p99.toFixed(0)} ms, ${s.pending} pending, ${s.errors} errors` +
          (s.sustained ? "" : ` — not sustained (${s.why})`),
      );
      if (!s.sustained) break;
    }
    log("ramp done; draining…");
    const left = await drain(gen, watcher, 60_000);
    if (left) notes.push(`${left} ramp orders had no terminal event 60 s after the ramp ended.`);
    const ramp: PhaseStats[] = steps.map((s) =>
      phaseStats(s, gen.orders, watcher!.byOrder, watcher!.all, {
        sloMs: cfg.sloMs,
        now: Date.now(),
      })
    );
    const peakStep = peakOf(ramp);
    const peak = peakStep
      ? {
        rate: peakStep.rate,
        completedPerSec: peakStep.completedPerSec,
        approvedPerSec: peakStep.approvedPerSec,
        rejectedPerSec: peakStep.rejectedPerSec,
        maxCompletedPerSec: Math.max(...ramp.map((s) => s.completedPerSec)),
      }
      : undefined;
    if (peakStep && peakStep === ramp[ramp.length - 1]) {
      notes.push(`The ramp reached --ramp-max (${cfg.rampMax}/s) without saturating.`);
    }
    const halfRate = cfg.rate || Math.max(1, (peak?.rate ?? cfg.rampStart) / 2);
    if (cfg.rate) notes.push(`No ramp (--rate ${cfg.rate}): the steady run is at that rate.`);
    log(`peak ${peak ? `${peak.rate}/s` : "not found"}; steady run at ${halfRate}/s…`);
    await sleep(2000);

    const before = await snapshotMetrics(CONSUMING_SERVICES, target.serviceUrl);
    const cpu0 = await cpuSnapshot(() => target.processes());
    const halfRun = await gen.run(
      cfg.rate ? "steady" : "half peak",
      halfRate,
      cfg.durationSeconds * 1000,
    );
    const cpu = cpuShare(
      cpu0,
      await cpuSnapshot(() => target.processes()),
      (halfRun.to - halfRun.from) / 1000,
    );
    phases.push(halfRun);
    const halfLeft = await drain(gen, watcher, 60_000);
    const after = await snapshotMetrics(CONSUMING_SERVICES, target.serviceUrl);
    const half = phaseStats(halfRun, gen.orders, watcher.byOrder, watcher.all, {
      sloMs: cfg.sloMs,
      now: Date.now(),
    });
    const others = cpu.find((c) => c.name === OTHERS)?.cores ?? 0;
    if (others >= 0.1) {
      notes.push(
        `The machine was shared: processes outside the measured stack used ${others} cores ` +
          `during the ${halfRun.label} run (e.g. a second stack); every number is pessimistic.`,
      );
    }
    if (halfLeft) notes.push(`${halfLeft} half-peak orders had no terminal event after 60 s.`);
    const lag = lagReport(before, after);
    log(
      `half peak: p50 ${half.latency.p50} ms, p95 ${half.latency.p95} ms, p99 ${half.latency.p99} ms; ` +
        `lag p50 ${lag.all.p50} ms, p99 ${lag.all.p99} ms`,
    );

    const reads: ReadResult[] = [];
    if (cfg.reads) {
      const wrk = await ensureWrk(log);
      if (!wrk) notes.push("wrk unavailable: reads measured with the Deno fetch loop.");
      const buyer = fixture.rich[0]!;
      const own = gen.orders.find((o) => o.customerId === buyer.id && o.orderId);
      const headers = { authorization: `Bearer ${buyer.token}` };
      // The catalogue is public: read it as a visitor does, without a token (so shared caches,
      // the edge's included, may answer it). The order is private: read it with its owner's token.
      const anonymous = {};
      const list = "/v1/product/list";
      log(`reads: ${list} for ${cfg.readSeconds} s at c=${cfg.readConnections}…`);
      reads.push(
        await runReads({
          name: "product list",
          url: target.api.baseOf(list) + list,
          headers: anonymous,
          connections: cfg.readConnections,
          seconds: cfg.readSeconds,
          wrk,
        }),
      );
      if (own?.orderId) {
        const path = `/v1/order/orders/${own.orderId}`;
        log(`reads: ${path} for ${cfg.readSeconds} s…`);
        reads.push(
          await runReads({
            name: "order by id",
            url: target.api.baseOf(path) + path,
            headers,
            connections: cfg.readConnections,
            seconds: cfg.readSeconds,
            wrk,
          }),
        );
      }
      if (target.edgeUrl && cfg.directReads) {
        // The same reads straight at the owning services: the difference is the edge's cost.
        const direct: Array<[string, string]> = [["product list (direct)", list]];
        if (own?.orderId) direct.push(["order by id (direct)", `/v1/order/orders/${own.orderId}`]);
        for (const [name, path] of direct) {
          const svc = path.split("/")[2] as "product" | "order";
          log(`reads: ${path} straight at the ${svc} service…`);
          reads.push(
            await runReads({
              name,
              url: target.serviceUrl(svc) + path,
              headers: svc === "product" ? anonymous : headers,
              connections: cfg.readConnections,
              seconds: cfg.readSeconds,
              wrk,
            }),
          );
        }
      }
      for (const r of reads) log(`reads ${r.name}: ${r.rps}/s, p99 ${r.latencyMs.p99} ms`);
    }

    const mem = await rss.stop();
    const pidsAfter = await appPids(target);
    const restarted = [...pidsBefore].filter(([a, p]) => pidsAfter.get(a) !== p).map(([a]) => a);
    if (restarted.length) {
      notes.push(`These apps were restarted during the run (by someone else?): ${restarted}.`);
    }
    const all = gen.orders;
    const ours = new Set(all.map((o) => o.orderId).filter(Boolean));
    const firsts = [...watcher.byOrder.values()].filter((e) => ours.has(e.orderId));
    const timeline: Timeline = {
      latency: bucketize(latencySamples(all, watcher.byOrder), origin),
      offered: perSecond(all.map((o) => o.sentAt), origin),
      approved: perSecond(
        firsts.filter((e) => e.status === "APPROVED").map((e) => e.committedAt),
        origin,
      ),
      rejected: perSecond(
        firsts.filter((e) => e.status === "REJECTED").map((e) => e.committedAt),
        origin,
      ),
      phases: phases.map((p) => ({
        label: p.label,
        from: (p.from - origin) / 1000,
        to: (p.to - origin) / 1000,
      })),
    };
    const result: BenchResult = {
      startedAt,
      finishedAt: new Date().toISOString(),
      machine: machineInfo(),
      stack: { kind: target.kind, door, topicPartitions: partitions },
      config: (({ outDir: _o, keepStack: _k, ...rest }) => rest)(cfg),
      ramp,
      ...(peak ? { peak } : {}),
      half,
      lag,
      cpu,
      reads,
      rss: mem,
      timeline,
      notes,
    };
    await Deno.mkdir(cfg.outDir, { recursive: true });
    const base = `${cfg.outDir}/${cfg.name}`;
    await Deno.writeTextFile(`${base}.json`, JSON.stringify(result, null, 2) + "\n");
    await Deno.writeTextFile(`${base}.svg`, renderChart(chartSpec(result)));
    await Deno.writeTextFile(
      `${base}.md`,
      markdown(result).replace("(latest.svg)", `(${cfg.name}.svg)`),
    );
    log(`wrote ${base}.{json,svg,md}`);
    return result;
  } finally {
    await rss.stop().catch(() => {});
    await watcher?.stop();
    if (!cfg.keepStack) {
      const stopped = await target.release();
      if (stopped.length) log(`stopped what the bench started: ${stopped.join(", ")}`);
    }
  }
}

if (import.meta.main) {
  const cfg = parseBenchArgs(Deno.args);
  const result = await runBench(cfg);
  console.log(
    "\n" + textTable([...TARGET_HEADER], targetCells(targetRows(result))) + "\n",
  );
  for (const g of result.rss.groups) {
    console.log(`  ${g.name.padEnd(24)} ${String(g.rssMiB).padStart(6)} MiB RSS`);
  }
  console.log(
    `\ncores used during the ${result.half?.label} run: ` +
      (result.cpu ?? []).map((c) => `${c.name} ${c.cores}`).join(", "),
  );
  for (const n of result.notes) console.log(`note: ${n}`);
  Deno.exit(0);
}
