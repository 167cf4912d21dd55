/**
 * `deno task bench [--quick] [--stack dev|test] [options]`: the place-order saga benchmark, by the
 * method the Go original was measured with (bench/reference.ts), compared row by row with it.
 *
 * Against the dev stack through its edge when it answers, else the test stack (brought up when
 * needed): 50 products and 200 customers (kept between runs), a warm-up, one order at a time, a
 * fixed rate with CPU per order and the anatomy of a hop, the open-loop rates of the reference,
 * closed loops with 64 and 128 orders in flight (the peak), 1.2× and 2× the peak offered, REST reads
 * with wrk, and memory throughout (`--soak N`: N measured minutes at half the peak after ten to
 * settle, PSS every 10 s).
 * Writes bench/results/latest.{json,svg,md} (`--quick`: quick.*) and prints the comparison.
 *
 * `--apps core` (default) measures the Go original's work — the seven saga services and the edge,
 * without the web front, the notification service and the mail catcher — so that every comparison
 * is like with like; `--apps all` measures the system as shipped.
 *
 * Options: --seconds S (20, each rate), --warmup S (60), --alone N (40), --cpu-rate R (60),
 * --cpu-seconds S (30), --rates 60,120,150,180, --closed 64,128, --overload 1.2,2, --soak MIN (0),
 * --soak-settle MIN (10: minutes at the soak's rate before it measures, bench/soak.ts),
 * --read-seconds S (10), --read-connections N (64), --no-reads, --out DIR, --name NAME,
 * --keep-stack, --client lean|fetch (the load generator's HTTP: `lean`, keep-alive HTTP/1.1 over
 * raw sockets at about half of fetch's CPU per request, or `fetch`, what the reference table was
 * measured with). A list given as 0 (or empty) skips its phases: `--closed 0 --overload 0`.
 *
 * Scale-out: --replicas N (1 to 3: replicas of every consuming service) and --partitions P (per
 * topic) run on the test stack, started (or restarted) that way; against the dev stack (--stack
 * dev) they only check it already runs so. --only peak measures nothing but the peak (the warm-up,
 * then the closed loops): `deno task bench --only peak --partitions 3 --replicas 2` writes
 * results/peak-p3-n2.*. Partitions can only grow: run P = 1, 3, 6 in that order (or
 * `deno task infra reset --profile test` in between).
 * @module
 */
import "@stocklet/shared/kafkajs_timer_fix";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { dbLayout, placementOf } from "@stocklet/shared/topology";
import { pgUrlOf } from "@stocklet/scripts/infra";
import { anatomy, snapshotHops } from "./anatomy.ts";
import { type AppSet, leaveOutBeyondCore, parseAppSet, skipBenchNotifications } from "./apps.ts";
import {
  alone,
  closedLoop,
  compareFixture,
  ComparePlacer,
  line,
  openLoop,
  type PhaseFigures,
  type PhaseRun,
  type PlacerClient,
  TerminalPoller,
} from "./compare.ts";
import { cpuByProcess, cpuPerOrder } from "./cpu.ts";
import { machineInfo } from "./machine.ts";
import { ensureWrk, type ReadResult, runReads } from "./reads.ts";
import {
  type BenchResult,
  chartSpec,
  COMPARE_HEADER,
  compareCells,
  compareRows,
  markdown,
  type OverloadFigures,
  textTable,
} from "./report.ts";
import { MemoryThread } from "./memory_thread.ts";
import { RssSampler } from "./rss.ts";
import { SOAK_SAMPLE_MS, SOAK_SETTLE_MINUTES, SoakSeries } from "./soak.ts";
import { rng } from "./stats.ts";
import { renderChart } from "./svg.ts";
import {
  CONSUMING_SERVICES,
  devStackMismatch,
  resolveTarget,
  scaleEnv,
  type StackKind,
  type Target,
} from "./target.ts";
import { Kafka, logLevel } from "kafkajs";

/** The bench's settings. */
export interface BenchConfig {
  stack?: StackKind;
  /** `core`: the Go original's work (default); `all`: as shipped (web front, notifications). */
  apps: AppSet;
  quick: boolean;
  seconds: number;
  warmupSeconds: number;
  alone: number;
  cpuRate: number;
  cpuSeconds: number;
  rates: number[];
  closed: number[];
  overload: number[];
  soakMinutes: number;
  /**
   * Minutes at the soak's rate before its measured minutes: the stack settles into the rate after
   * the phases before it (see {@linkcode SOAK_SETTLE_MINUTES}).
   */
  soakSettleMinutes: number;
  reads: boolean;
  readSeconds: number;
  readConnections: number;
  outDir: string;
  name: string;
  keepStack: boolean;
  /** Replicas of every consuming service (1: as the stack runs). */
  replicas: number;
  /** Partitions per topic (undefined: as the stack has them). */
  partitions?: number;
  /** Measure only this (`peak`: the warm-up and the closed loops). */
  only?: "peak";
  /** The load generator's HTTP client (bench/compare.ts PlacerClient). */
  client: PlacerClient;
}

/** A list option: comma-separated positive numbers; empty or `0` skips the phases it lists. */
function numbers(raw: string, what: string): number[] {
  if (!raw.trim() || raw.trim() === "0") return [];
  return raw.split(",").map((x) => {
    const n = Number(x.trim());
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${what} ${raw}: not positive numbers`);
    return n;
  });
}

/** Parses the command line (quick mode changes the defaults, explicit options still win). */
export function parseBenchArgs(argv: string[]): BenchConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      stack: { type: "string" },
      apps: { type: "string", default: "core" },
      quick: { type: "boolean", default: false },
      seconds: { type: "string" },
      warmup: { type: "string" },
      alone: { type: "string" },
      "cpu-rate": { type: "string", default: "60" },
      "cpu-seconds": { type: "string" },
      rates: { type: "string" },
      closed: { type: "string" },
      overload: { type: "string" },
      soak: { type: "string", default: "0" },
      "soak-settle": { type: "string" },
      "no-reads": { type: "boolean", default: false },
      "read-seconds": { type: "string" },
      "read-connections": { type: "string", default: "64" },
      out: { type: "string", default: new URL("./results", import.meta.url).pathname },
      name: { type: "string" },
      "keep-stack": { type: "boolean", default: false },
      replicas: { type: "string", default: "1" },
      partitions: { type: "string" },
      only: { type: "string" },
      client: { type: "string", default: "lean" },
    },
    strict: true,
  });
  const q = values.quick;
  const replicas = Number(values.replicas);
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 3) {
    throw new Error(`--replicas ${values.replicas}: 1 to 3`);
  }
  const partitions = values.partitions === undefined ? undefined : Number(values.partitions);
  if (partitions !== undefined && (!Number.isInteger(partitions) || partitions < 1)) {
    throw new Error(`--partitions ${values.partitions}: a positive integer`);
  }
  if (values.only !== undefined && values.only !== "peak") {
    throw new Error(`--only ${values.only}: only "peak" is known`);
  }
  if (values.client !== "lean" && values.client !== "fetch") {
    throw new Error(`--client ${values.client}: lean or fetch`);
  }
  const peakOnly = values.only === "peak";
  const scaled = replicas > 1 || partitions !== undefined;
  const num = (v: string | undefined, def: number, what: string): number => {
    const x = v === undefined ? def : Number(v);
    if (!Number.isFinite(x) || x < 0) throw new Error(`--${what} ${v}: not a number`);
    return x;
  };
  if (values.stack !== undefined && values.stack !== "dev" && values.stack !== "test") {
    throw new Error(`--stack ${values.stack}: expected dev or test`);
  }
  return {
    // Replicas and partitions are set where the bench can set them: on the test stack.
    ...(values.stack
      ? { stack: values.stack as StackKind }
      : scaled
      ? { stack: "test" as StackKind }
      : {}),
    apps: parseAppSet(values.apps),
    quick: q,
    seconds: num(values.seconds, q ? 5 : 20, "seconds"),
    warmupSeconds: num(values.warmup, q ? 10 : 60, "warmup"),
    alone: peakOnly ? 0 : num(values.alone, q ? 10 : 40, "alone"),
    cpuRate: num(values["cpu-rate"], 60, "cpu-rate"),
    cpuSeconds: peakOnly ? 0 : num(values["cpu-seconds"], q ? 10 : 30, "cpu-seconds"),
    rates: peakOnly ? [] : numbers(values.rates ?? (q ? "60,120" : "60,120,150,180"), "rates"),
    closed: numbers(values.closed ?? (q ? "64" : "64,128"), "closed"),
    overload: peakOnly ? [] : numbers(values.overload ?? (q ? "2" : "1.2,2"), "overload"),
    soakMinutes: peakOnly ? 0 : num(values.soak, 0, "soak"),
    soakSettleMinutes: num(values["soak-settle"], SOAK_SETTLE_MINUTES, "soak-settle"),
    reads: !peakOnly && !values["no-reads"],
    readSeconds: num(values["read-seconds"], q ? 3 : 10, "read-seconds"),
    readConnections: num(values["read-connections"], 64, "read-connections"),
    outDir: values.out,
    name: values.name ??
      (peakOnly || scaled
        ? `${peakOnly ? "peak" : "scale"}-p${partitions ?? "x"}-n${replicas}`
        : q
        ? "quick"
        : "latest"),
    keepStack: values["keep-stack"],
    replicas,
    ...(partitions !== undefined ? { partitions } : {}),
    ...(peakOnly ? { only: "peak" as const } : {}),
    client: values.client,
  };
}

const t0 = Date.now();
function log(text: string): void {
  console.error(`[bench ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${text}`);
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

/** Orders of a phase the saga timeout rejected (reject reason TIMEOUT). */
async function timeoutsAmong(target: Target, run: PhaseRun): Promise<number> {
  const ids = run.orders.map((o) => o.orderId).filter((x): x is string => !!x && x.length === 36);
  if (!ids.length) return 0;
  const sql = postgres(target.serviceDbUrl("order"), { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ n: number }[]>`
      select count(*)::int as n from orders where id = any(${ids}::uuid[]) and reject_reason = 5`;
    return row!.n;
  } finally {
    await sql.end();
  }
}

/**
 * Emails the mail catcher received during the busiest of the windows (the closed loops): the
 * notification service's sending rate at the peak.
 */
async function emailsDuring(
  mailboxUrl: string,
  windows: Array<[number, number]>,
): Promise<NonNullable<BenchResult["emails"]>> {
  const res = await fetch(`${mailboxUrl}/api/messages`);
  if (!res.ok) throw new Error(`mailbox → ${res.status}`);
  const times = ((await res.json()) as Array<{ receivedAt: string }>).map((m) =>
    Date.parse(m.receivedAt)
  );
  let best = { emails: 0, seconds: 1, perSec: 0 };
  for (const [from, to] of windows) {
    const emails = times.filter((t) => t >= from && t < to).length;
    const seconds = (to - from) / 1000;
    const perSec = Math.round((emails / seconds) * 10) / 10;
    if (perSec > best.perSec) best = { emails, seconds, perSec };
  }
  return best;
}

/** Waits until the poller follows no more orders (the previous phase drained). */
async function drained(poller: TerminalPoller, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (poller.pending > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 2000));
}

/** Runs the bench; returns the result (also written to disk). */
export async function runBench(cfg: BenchConfig): Promise<BenchResult> {
  const startedAt = new Date().toISOString();
  const notes: string[] = [];
  const scale = {
    replicas: cfg.replicas,
    ...(cfg.partitions ? { partitions: cfg.partitions } : {}),
  };
  if (cfg.stack === "test") {
    // Read by the test stack as it starts (it restarts when they differ from what it runs).
    for (const [k, v] of Object.entries(scaleEnv(scale))) Deno.env.set(k, v);
  }
  let leftOut: string[] = [];
  if (cfg.apps === "core" && cfg.stack !== "dev") leftOut = await leaveOutBeyondCore(log);
  const target = await resolveTarget({ ...(cfg.stack ? { stack: cfg.stack } : {}), log });
  if (target.kind === "dev" && cfg.apps === "core") {
    notes.push("The dev stack runs every app: measured as shipped, not the core alone.");
  }
  const apps = target.kind === "dev" ? "all" : cfg.apps;
  if (target.kind === "dev" && (cfg.replicas > 1 || cfg.partitions !== undefined)) {
    const problems = await devStackMismatch(scale, target.kafkaBrokers);
    if (problems.length) {
      throw new Error(
        `the dev stack does not run as asked (${problems.join("; ")}): start it with ` +
          Object.entries(scaleEnv(scale)).map(([k, v]) => `${k}=${v}`).join(" ") +
          " deno task dev, or leave --stack dev out to use the test stack",
      );
    }
  }
  log(
    apps === "core"
      ? `apps: the Go original's work (left out: ${leftOut.join(", ")})`
      : "apps: as shipped (web front, notifications and the mail catcher included)",
  );
  log(
    `scale: ${cfg.replicas} replica(s) of every consuming service, ` +
      `${await topicPartitions(target.kafkaBrokers)} partition(s) per topic` +
      (cfg.only ? `; measuring only the ${cfg.only}` : ""),
  );
  const door = target.edgeUrl ? `the edge (${target.edgeUrl})` : "the services directly (no edge)";
  log(
    `stack: ${target.kind}, requests through ${door}, the load generator's client: ${cfg.client}`,
  );
  const rss = new RssSampler();
  let memoryThread: MemoryThread | undefined;
  let closePlacer = () => {};
  const orderDb = placementOf("order");
  // The poller reads as the administrator, so its PostgreSQL backend is not counted as the
  // order service's in the CPU figures.
  const poller = new TerminalPoller(pgUrlOf(target.infra, orderDb.database), orderDb.schema);
  try {
    const fixture = await compareFixture(target.api, {
      log,
      cacheFile: `${target.infra.stateDir}/bench-fixture.json`,
    });
    poller.start();
    // Memory is sampled from here: the fixture's 200 registrations hash their passwords with
    // scrypt (128 MiB each, given back afterwards), which is not the orders' workload. On a
    // thread of its own: reading /proc for the whole stack takes the kernel 90–230 ms.
    memoryThread = MemoryThread.start(rss, target.kind, target.infra);
    const placer = new ComparePlacer(target.api, fixture, poller, rng(42), cfg.client);
    closePlacer = () => placer.close();
    const phase = async (run: Promise<PhaseRun>): Promise<PhaseRun> => {
      const r = await run;
      log(line(r.figures));
      await drained(poller);
      return r;
    };

    if (cfg.warmupSeconds > 0) {
      log(`warm-up: ${cfg.cpuRate}/s for ${cfg.warmupSeconds} s (JIT, caches, pools)`);
      rss.phase("warm-up");
      await phase(openLoop(placer, cfg.cpuRate, cfg.warmupSeconds));
    }

    let aloneFigures: PhaseFigures | undefined;
    if (cfg.alone > 0) {
      rss.phase("one order alone");
      aloneFigures = (await phase(alone(placer, cfg.alone))).figures;
    }

    let cpu: BenchResult["cpu"];
    let hops: BenchResult["anatomy"];
    if (cfg.cpuRate > 0 && cfg.cpuSeconds > 0) {
      const hops0 = await snapshotHops(CONSUMING_SERVICES, target.serviceUrl);
      const cpu0 = await cpuByProcess(() => target.processes());
      rss.phase(`cpu at ${cfg.cpuRate}/s`);
      const run = await openLoop(placer, cfg.cpuRate, cfg.cpuSeconds);
      const cpu1 = await cpuByProcess(() => target.processes());
      const hops1 = await snapshotHops(CONSUMING_SERVICES, target.serviceUrl);
      log(line(run.figures));
      const done = run.orders.filter((o) => o.doneAt !== undefined).length;
      const c = cpuPerOrder(cpu0, cpu1, cfg.cpuSeconds, done);
      const infraCores = c.rows.filter((r) => /^(postgres|kafka|connect)/.test(r.name))
        .reduce((s, r) => s + r.cores, 0);
      cpu = { rate: cfg.cpuRate, seconds: cfg.cpuSeconds, orders: done, ...c, infraCores };
      hops = anatomy(hops0, hops1);
      log(
        `cpu at ${cfg.cpuRate}/s: ${c.total.cores.toFixed(2)} cores, ` +
          `${c.total.msPerOrder.toFixed(1)} ms per order; hop p50 ${hops.all.total.p50} ms`,
      );
      await drained(poller);
    }

    const open: PhaseFigures[] = [];
    for (const rate of cfg.rates) {
      rss.phase(`open ${rate}/s`);
      open.push((await phase(openLoop(placer, rate, cfg.seconds))).figures);
    }
    const closed: PhaseFigures[] = [];
    const closedWindows: Array<[number, number]> = [];
    for (const n of cfg.closed) {
      const from = Date.now();
      rss.phase(`closed ${n} in flight`);
      const run = closedLoop(placer, n, cfg.seconds);
      closed.push((await run).figures);
      closedWindows.push([from, Date.now()]);
      log(line(closed.at(-1)!));
      await drained(poller);
    }
    const peak = closed.length ? Math.max(...closed.map((f) => f.completedPerSec)) : undefined;
    let emails: BenchResult["emails"];
    if (apps === "all" && closedWindows.length) {
      emails = await emailsDuring(target.api.stack.mailboxUrl, closedWindows).catch(() =>
        undefined
      );
      if (emails) log(`emails: ${emails.perSec}/s received by the mail catcher at the peak`);
    }

    const overload: OverloadFigures[] = [];
    if (peak) {
      for (const factor of cfg.overload) {
        const rate = Math.round(peak * factor);
        rss.phase(`${factor}× peak (${rate}/s)`);
        const run = await openLoop(placer, rate, cfg.seconds);
        log(line(run.figures));
        await drained(poller);
        overload.push({
          ...run.figures,
          label: `${factor}× peak (${rate}/s)`,
          factor,
          timeoutRejections: await timeoutsAmong(target, run),
        });
      }
    }

    const reads: ReadResult[] = [];
    if (cfg.reads) {
      const wrk = await ensureWrk(log);
      if (!wrk) notes.push("wrk unavailable: reads measured with the Deno fetch loop.");
      const list = "/v1/product/list";
      rss.phase("reads");
      log(`reads: ${list} for ${cfg.readSeconds} s at c=${cfg.readConnections}…`);
      // The catalogue is public: read as a visitor does, without a token (so the edge may cache).
      reads.push(
        await runReads({
          name: "product list",
          url: target.api.baseOf(list) + list,
          headers: {},
          connections: cfg.readConnections,
          seconds: cfg.readSeconds,
          wrk,
        }),
      );
      for (const r of reads) log(`reads ${r.name}: ${r.rps}/s, p99 ${r.latencyMs.p99} ms`);
    }

    let soak: BenchResult["soak"];
    if (cfg.soakMinutes > 0 && peak) {
      const rate = Math.round(peak / 2);
      const settle = cfg.soakSettleMinutes;
      log(
        `soak: ${rate}/s for ${settle} min to settle, then ${cfg.soakMinutes} min measured, ` +
          "PSS every 10 s…",
      );
      const series = new SoakSeries();
      // Minutes are counted from the end of the settling (negative before it).
      const measuredFrom = Date.now() + settle * 60_000;
      // Every tenth of the memory thread's samples (one per 10 s), not a reading of its own.
      let lastSoakSample = 0;
      const unsubscribe = rss.onSample((rows) => {
        const now = Date.now();
        if (now - lastSoakSample < SOAK_SAMPLE_MS) return;
        lastSoakSample = now;
        const groups: Record<string, number> = {};
        // The trace store is the collector's and the bench is the bench: not the stack's.
        for (const r of rows) {
          if (r.kind === "app" || r.kind === "infra") groups[r.name] = r.pss / 1024;
        }
        series.add((now - measuredFrom) / 60_000, groups);
      });
      rss.phase(`soak ${rate}/s`);
      await openLoop(placer, rate, (settle + cfg.soakMinutes) * 60);
      unsubscribe();
      soak = { rate, minutes: cfg.soakMinutes, settleMinutes: settle, ...series.figures() };
      const settling = soak.settling
        ? ` (${soak.settling.slopeMiBPerHour.toFixed(1)} MiB/h while settling)`
        : "";
      log(
        `soak: PSS slope ${soak.slopeMiBPerHour.toFixed(1)} MiB/h over the measured ` +
          `${cfg.soakMinutes} min${settling}`,
      );
    }

    await memoryThread.stop();
    const memory = rss.report();
    const result: BenchResult = {
      startedAt,
      finishedAt: new Date().toISOString(),
      machine: machineInfo(),
      stack: {
        kind: target.kind,
        door,
        topicPartitions: await topicPartitions(target.kafkaBrokers),
        replicas: cfg.replicas,
        dbLayout: dbLayout(),
        debeziumPollMs: 20,
        apps,
      },
      config: (({ outDir: _o, keepStack: _k, ...rest }) => rest)(cfg),
      ...(aloneFigures ? { alone: aloneFigures } : {}),
      ...(cpu ? { cpu } : {}),
      ...(hops ? { anatomy: hops } : {}),
      open,
      closed,
      ...(peak ? { peak } : {}),
      overload,
      reads,
      ...(emails ? { emails } : {}),
      memory,
      ...(soak ? { soak } : {}),
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
    await memoryThread?.stop().catch(() => {});
    closePlacer();
    await poller.stop();
    if (leftOut.includes("notification")) {
      const moved = await skipBenchNotifications(target.kafkaBrokers).catch(() => []);
      if (moved.length) log(`apps: notification's group moved past the bench's orders (no emails)`);
    }
    if (!cfg.keepStack) {
      const stopped = await target.release();
      if (stopped.length) log(`stopped what the bench started: ${stopped.join(", ")}`);
    }
  }
}

if (import.meta.main) {
  const cfg = parseBenchArgs(Deno.args);
  const result = await runBench(cfg);
  console.log("\n" + textTable([...COMPARE_HEADER], compareCells(compareRows(result))) + "\n");
  if (result.cpu) {
    for (const r of result.cpu.rows.filter((x) => x.cores >= 0.01)) {
      console.log(
        `  ${r.name.padEnd(40)} ${r.cores.toFixed(3)} cores  ${r.msPerOrder.toFixed(2)} ms/order`,
      );
    }
  }
  for (const n of result.notes) console.log(`note: ${n}`);
  Deno.exit(0);
}
