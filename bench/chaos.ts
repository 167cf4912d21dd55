/**
 * `deno task chaos [--replay-only] [options]`: the chaos suite, on the test stack.
 *
 * While orders flow (open loop: the bench's mix with a share of cancellations, 70/10/10/10), each
 * service, the edge, Kafka Connect,
 * the Kafka broker and PostgreSQL are in turn killed with SIGKILL and restarted (apps with
 * `restartTestApp`, infrastructure with `infraUp`), with time to recover in between. Then, once
 * every order ended and every consumer caught up, the invariants (bench/invariants.ts) are checked
 * and printed as a table, dead letters are listed with their `dlq.error`, and the replay check
 * (bench/replay.ts) rewinds every consumer group and proves no database changes. Exits 1 on any
 * violation.
 *
 * Scale-out (`--replicas N`, 2 or 3): every consuming service runs N replicas (one consumer group
 * of N members each), and the victims are one replica of each consuming service in turn (the
 * first replica of one, the second of the next…), each SIGKILLed and started again; every kill
 * records how long the replica took to be ready again and when its group was rebalanced (Stable
 * with N members, the killed one gone: `describeGroups`). `--partitions P` gives every topic P
 * partitions (raised before the services start). Both apply to the test stack it brings up.
 *
 * Options: --rate R (orders/s, 10), --customers N (12), --steady S (seconds of calm before each
 * kill, 12), --victims a,b,… (default: every service, edge, connect, kafka, postgres; with
 * replicas, one replica of each consuming service; a replica is named `order@1`), --replicas N
 * (1), --partitions P (the stack's), --grace-ms MS (60000), --no-replay, --replay-only,
 * --keep-stack, --out DIR (bench/results), --name NAME (chaos-latest; chaos-scaleout-latest with
 * replicas): the report goes to DIR/NAME.{md,json}. `deno task chaos --down` stops the test stack
 * (processes and infrastructure) a run interrupted midway left behind; `--down --wipe` also
 * deletes its databases and topics.
 * @module
 */
import "@stocklet/shared/kafkajs_timer_fix";
import { parseArgs } from "node:util";
import { SERVICE_NAMES } from "@stocklet/shared/topology";
import { consumerGroupOf, deadLetterTopicOf, relaysOf } from "@stocklet/shared/topology";
import {
  type Component,
  componentPid,
  COMPONENTS,
  infraConfig,
  infraDown,
  infraReset,
  infraUp,
} from "@stocklet/scripts/infra";
import {
  childrenOf,
  isAlive,
  portOpen,
  tailFile,
  waitUntil,
} from "@stocklet/scripts/infra/process";
import { getConnectorStatus } from "@stocklet/scripts/infra/connect";
import { appLogFile, appPid, isReady } from "@stocklet/scripts/stack/apps";
import {
  type AppName,
  baseOf,
  MAX_REPLICAS,
  replicaCount,
  stackPorts,
} from "@stocklet/scripts/stack/config";
import type { ServiceName } from "@stocklet/shared/topology";
import type { Kafka } from "kafkajs";
import { restartTestApp, stackApps, stopTestStack } from "@stocklet/scripts/stack";
import { waitCaughtUp } from "@stocklet/testing/kafka";
import {
  benchKafka,
  collectSnapshot,
  ENDING_TOPICS,
  endOffsets,
  inFlightOrders,
  type RunLedger,
} from "./collect.ts";
import { checkInvariants, type Verdict } from "./invariants.ts";
import { LoadGenerator, sleep } from "./load.ts";
import { groupState, waitRebalanced } from "./rebalance.ts";
import { replayCheck, type ReplayResult } from "./replay.ts";
import { mdTable, textTable } from "./report.ts";
import { rng } from "./stats.ts";
import { CONSUMING_SERVICES, resolveTarget, scaleEnv, type Target } from "./target.ts";
import { parseMix, setupFixture } from "./workload.ts";

/** The chaos suite's settings. */
export interface ChaosConfig {
  rate: number;
  customers: number;
  steadySeconds: number;
  victims: string[];
  graceMs: number;
  replay: boolean;
  replayOnly: boolean;
  keepStack: boolean;
  /** Replicas of every consuming service (1: the stack as it is configured). */
  replicas: number;
  /** Partitions of every topic (undefined: the stack's, `STOCKLET_TOPIC_PARTITIONS`). */
  partitions?: number;
  /** Where the report goes, and its name (`<outDir>/<name>.{md,json}`). */
  outDir: string;
  name: string;
}

/** The chaos load: approved, short of stock, short of balance, cancelled by the customer. */
export const CHAOS_MIX = "70/10/10/10";

/** Every victim, in kill order. */
export const ALL_VICTIMS: readonly string[] = [
  ...SERVICE_NAMES,
  "edge",
  "connect",
  "kafka",
  "postgres",
];

/**
 * The scale-out victims: one replica of each consuming service, alternating the first and the
 * second replica, so both the replica the service's own URL names and an extra one are killed.
 */
export function replicaVictims(replicas: number): AppName[] {
  return CONSUMING_SERVICES.map((svc, i) =>
    i % 2 === 0 || replicas < 2 ? svc : `${svc}@${1}` as AppName
  );
}

/** Whether a victim names a running replica under the given replica count. */
function knownVictim(v: string, replicas: number): boolean {
  if (ALL_VICTIMS.includes(v)) return true;
  const at = v.indexOf("@");
  if (at < 0) return false;
  const k = Number(v.slice(at + 1));
  return (CONSUMING_SERVICES as readonly string[]).includes(v.slice(0, at)) &&
    Number.isInteger(k) && k >= 1 && k < replicas;
}

/** Parses the command line. */
export function parseChaosArgs(argv: string[]): ChaosConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      rate: { type: "string", default: "10" },
      customers: { type: "string", default: "12" },
      steady: { type: "string", default: "12" },
      victims: { type: "string" },
      "grace-ms": { type: "string", default: "60000" },
      "no-replay": { type: "boolean", default: false },
      "replay-only": { type: "boolean", default: false },
      "keep-stack": { type: "boolean", default: false },
      replicas: { type: "string", default: "1" },
      partitions: { type: "string" },
      out: { type: "string", default: new URL("./results", import.meta.url).pathname },
      name: { type: "string" },
    },
    strict: true,
  });
  const replicas = Number(values.replicas);
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > MAX_REPLICAS) {
    throw new Error(`--replicas ${values.replicas}: 1 to ${MAX_REPLICAS}`);
  }
  const partitions = values.partitions === undefined ? undefined : Number(values.partitions);
  if (partitions !== undefined && (!Number.isInteger(partitions) || partitions < 1)) {
    throw new Error(`--partitions ${values.partitions}: a positive integer`);
  }
  const victims = values.victims
    ? values.victims.split(",").map((v) => v.trim())
    : replicas > 1
    ? replicaVictims(replicas)
    : [...ALL_VICTIMS];
  for (const v of victims) {
    if (!knownVictim(v, replicas)) {
      throw new Error(
        `--victims: unknown ${v} (${ALL_VICTIMS}, or a replica such as order@1 with --replicas)`,
      );
    }
  }
  return {
    replicas,
    ...(partitions !== undefined ? { partitions } : {}),
    outDir: values.out,
    name: values.name ?? (replicas > 1 ? "chaos-scaleout-latest" : "chaos-latest"),
    rate: Number(values.rate),
    customers: Number(values.customers),
    steadySeconds: Number(values.steady),
    victims,
    graceMs: Number(values["grace-ms"]),
    replay: !values["no-replay"],
    replayOnly: values["replay-only"],
    keepStack: values["keep-stack"],
  };
}

const t0 = Date.now();
function log(line: string): void {
  console.error(`[chaos ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}`);
}

/** One kill and its recovery. */
export interface KillRecord {
  victim: string;
  killedAt: number;
  recoveredAt: number;
  /** A replica of a consuming service: when it was ready again. */
  restartedAt?: number;
  /** …and when its consumer group was Stable again with every replica, the killed one gone. */
  rebalancedAt?: number;
  /** That group. */
  group?: string;
  /** Problems seen while recovering (a failed connector task, a slow restart…). */
  notes: string[];
}

/** Seconds between two times, one decimal (for the report). */
const secs = (from: number, to: number | undefined) =>
  to === undefined ? undefined : Math.round((to - from) / 100) / 10;

async function waitAppsReady(apps: AppName[], timeoutMs: number): Promise<AppName[]> {
  const ports = stackPorts("test");
  let notReady: AppName[] = apps;
  await waitUntil(async () => {
    const states = await Promise.all(apps.map((a) => isReady(a, ports)));
    notReady = apps.filter((_, i) => !states[i]);
    return notReady.length === 0;
  }, { timeoutMs, intervalMs: 500 });
  return notReady;
}

/** Waits for every outbox connector to run; restarts failed ones (noting it) so the run goes on. */
async function waitConnectors(connectUrl: string, timeoutMs: number): Promise<string[]> {
  const notes: string[] = [];
  const names = relaysOf().map((r) => r.name);
  const restarted = new Set<string>();
  const ok = await waitUntil(async () => {
    let all = true;
    for (const name of names) {
      const st = await getConnectorStatus(connectUrl, name).catch(() => undefined);
      const states = st ? [st.connector.state, ...st.tasks.map((t) => t.state)] : ["MISSING"];
      if (states.every((s) => s === "RUNNING") && (st?.tasks.length ?? 0) > 0) continue;
      all = false;
      if (states.includes("FAILED") && !restarted.has(name)) {
        restarted.add(name);
        const trace = st?.tasks.find((t) => t.state === "FAILED")?.trace?.split("\n")[0] ?? "";
        notes.push(`connector ${name} FAILED (${trace}); restarted it by hand`);
        await fetch(
          `${connectUrl}/connectors/${name}/restart?includeTasks=true&onlyFailed=true`,
          { method: "POST" },
        ).then((r) => r.body?.cancel()).catch(() => {});
      }
    }
    return all;
  }, { timeoutMs, intervalMs: 1000 }).catch(() => false);
  if (!ok) notes.push(`connectors not all RUNNING after ${timeoutMs / 1000} s`);
  return notes;
}

/** The last error line of an app's log (ANSI colours stripped), for a crash report. */
function lastError(app: AppName): string {
  // deno-lint-ignore no-control-regex
  const lines = tailFile(appLogFile("test", app), 200).replace(/\x1b\[[0-9;]*m/g, "").split("\n");
  const i = lines.findLastIndex((l) => /^error: |Uncaught/.test(l));
  return i < 0 ? "no error in its log" : lines.slice(i, i + 2).map((l) => l.trim()).join(" ");
}

function procExists(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

async function kill(target: Target, kafka: Kafka, victim: string): Promise<KillRecord> {
  const infra = target.api.stack.infra;
  const notes: string[] = [];
  const svc = baseOf(victim as AppName) as ServiceName;
  const group = (CONSUMING_SERVICES as readonly string[]).includes(svc)
    ? consumerGroupOf(svc)
    : undefined;
  const before = group ? (await groupState(kafka, group).catch(() => undefined))?.members : [];
  const killedAt = Date.now();
  let restartedAt: number | undefined;
  let rebalancedAt: number | undefined;
  if ((COMPONENTS as readonly string[]).includes(victim)) {
    const c = victim as Component;
    const pid = componentPid(target.infra, c);
    if (pid === undefined) throw new Error(`${c} does not run`);
    const pids = c === "postgres" ? [pid, ...childrenOf(pid)] : [pid];
    for (const p of pids) {
      try {
        Deno.kill(p, "SIGKILL");
      } catch { /* gone */ }
    }
    // Gone from /proc, not merely a zombie: PostgreSQL refuses to start while kill(old pid, 0)
    // still succeeds ("lock file postmaster.pid already exists").
    await waitUntil(() => pids.every((p) => !isAlive(p) && !procExists(p)), {
      timeoutMs: 15_000,
    });
    // A killed JVM can hold its listening socket for a moment after it stopped being "alive".
    const port = c === "postgres"
      ? target.infra.ports.postgres
      : c === "kafka"
      ? target.infra.ports.kafka
      : target.infra.ports.connect;
    await waitUntil(async () => !(await portOpen(target.infra.host, port)), {
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    log(`killed ${c} (${pids.length} process${pids.length > 1 ? "es" : ""}); restarting…`);
    for (let attempt = 1;; attempt++) {
      try {
        await infraUp(target.infra, { onProgress: (l) => log(`  ${l}`) });
        break;
      } catch (e) {
        if (attempt >= 5) throw e;
        notes.push(`infra up failed (attempt ${attempt}): ${String(e).split("\n")[0]}`);
        await sleep(3000);
      }
    }
  } else {
    log(`killing ${victim} (SIGKILL) and restarting…`);
    await restartTestApp(victim as AppName, infra, "SIGKILL");
    restartedAt = Date.now();
    if (group) {
      const expected = replicaCount(svc);
      rebalancedAt = await waitRebalanced(kafka, group, before ?? [], expected, 120_000);
      if (rebalancedAt === undefined) {
        notes.push(`group ${group} not Stable with ${expected} members 120 s after the kill`);
      } else {
        log(
          `${group}: rebalanced ${secs(killedAt, rebalancedAt)} s after the kill ` +
            `(${victim} ready after ${secs(killedAt, restartedAt)} s)`,
        );
      }
    }
  }
  const apps = await stackApps();
  // An app that died meanwhile (a crash caused by the kill) never gets ready: note why, and
  // start it again so the rest of the run can go on.
  await waitUntil(async () => {
    const states = await Promise.all(apps.map((a) => isReady(a, stackPorts("test"))));
    return states.every(Boolean) || apps.some((a) => appPid("test", a) === undefined);
  }, { timeoutMs: 60_000, intervalMs: 500 });
  for (const a of apps.filter((x) => appPid("test", x) === undefined)) {
    notes.push(`${a} exited (${lastError(a)}); restarted by hand`);
    await restartTestApp(a, infra).catch((e) => notes.push(`restarting ${a} failed: ${e}`));
  }
  const notReady = await waitAppsReady(apps, 180_000);
  if (notReady.length) notes.push(`not ready 180 s after the restart: ${notReady}`);
  notes.push(...await waitConnectors(infra.connectUrl, 120_000));
  const recoveredAt = Date.now();
  log(
    `${victim} recovered in ${((recoveredAt - killedAt) / 1000).toFixed(1)} s` +
      (notes.length ? ` (${notes.join("; ")})` : ""),
  );
  return {
    victim,
    killedAt,
    recoveredAt,
    ...(restartedAt !== undefined ? { restartedAt } : {}),
    ...(rebalancedAt !== undefined ? { rebalancedAt } : {}),
    ...(group && restartedAt !== undefined ? { group } : {}),
    notes,
  };
}

/** A kill's times for the report: down → recovered, the replica ready, the group rebalanced. */
function killRow(k: KillRecord): string[] {
  const s = (t: number | undefined) => (t === undefined ? "-" : `${secs(k.killedAt, t)} s`);
  return [k.victim, s(k.recoveredAt), s(k.restartedAt), s(k.rebalancedAt), k.notes.join("; ")];
}

const KILL_HEADER = ["victim", "down → recovered", "replica ready", "group rebalanced", "notes"];

function printVerdicts(verdicts: Verdict[], kills: KillRecord[]): void {
  console.log(
    "\n" + textTable(
      ["invariant", "result", "checked"],
      verdicts.map((v) => [v.name, v.ok ? "PASS" : "FAIL", v.detail]),
    ),
  );
  for (const v of verdicts.filter((x) => !x.ok)) {
    console.log(`\n${v.name}:`);
    for (const line of v.violations) console.log(`  - ${line}`);
  }
  if (kills.length) console.log("\n" + textTable(KILL_HEADER, kills.map(killRow)));
}

function printReplay(r: ReplayResult): void {
  console.log(
    `\nreplay: ${r.records} records re-delivered to ${r.groups.length} groups in ${
      (r.tookMs / 1000).toFixed(0)
    } s; ${r.tables} tables fingerprinted: ${
      r.ok ? "no database changed — PASS" : `${r.diffs.length} tables changed — FAIL`
    }`,
  );
  if (!r.ok) {
    console.log(
      textTable(
        ["database", "table", "before (count:md5)", "after"],
        r.diffs.map((d) => [d.database, d.table, d.before, d.after]),
      ),
    );
  }
}

/** What a run saw, besides the invariants: for the report and the scale-out test. */
export interface RunSummary {
  replicas: number;
  partitions: number | undefined;
  rate: number;
  orders: {
    placeRequests: number;
    acknowledged: number;
    inDatabase: number;
    byStatus: Record<string, number>;
    cancellations: number;
  };
  deadLetters: number;
}

/** The JSON report (`<outDir>/<name>.json`): what the scale-out test reads. */
export type ChaosReport = RunSummary & {
  ok: boolean;
  verdicts: Verdict[];
  kills: KillRecord[];
  replay?: ReplayResult;
};

/** Runs the suite; returns whether everything held. */
export async function runChaos(cfg: ChaosConfig): Promise<boolean> {
  for (const [k, v] of Object.entries(scaleEnv(cfg))) Deno.env.set(k, v);
  if (cfg.replicas > 1 || cfg.partitions !== undefined) {
    log(
      `scale: ${cfg.replicas} replicas of ${CONSUMING_SERVICES.join(", ")}; ` +
        `${cfg.partitions ?? "the stack's"} partitions per topic`,
    );
  }
  const target = await resolveTarget({ stack: "test", log });
  const kafka = benchKafka(target.kafkaBrokers);
  let ok = true;
  const replay = () =>
    replayCheck({
      kafka,
      infra: target.api.stack.infra,
      serviceDbUrl: target.serviceDbUrl,
      services: CONSUMING_SERVICES,
      log,
    });
  try {
    if (cfg.replayOnly) {
      const r = await replay();
      printReplay(r);
      return r.ok;
    }
    const dlqTopics = CONSUMING_SERVICES.map((s) => deadLetterTopicOf(consumerGroupOf(s)));
    const startOffsets = await endOffsets(kafka, [...ENDING_TOPICS, ...dlqTopics]);
    const fixture = await setupFixture(target.api, {
      customers: cfg.customers,
      poorCustomers: Math.max(1, Math.ceil(cfg.customers / 4)),
      products: 10,
      stockPerProduct: 100_000,
      log,
    });
    const gen = new LoadGenerator(target.api, fixture, parseMix(CHAOS_MIX), {
      rand: rng(7),
      timeoutMs: 20_000,
    });
    const stop = new AbortController();
    log(`load: ${cfg.rate} orders/s; victims: ${cfg.victims.join(", ")}`);
    const load = gen.run("chaos", cfg.rate, 3_600_000, stop.signal);
    const kills: KillRecord[] = [];
    try {
      for (const v of cfg.victims) {
        await sleep(cfg.steadySeconds * 1000);
        const killedAt = Date.now();
        try {
          kills.push(await kill(target, kafka, v));
        } catch (e) {
          // Record it as a failed recovery, bring everything back, and go on with the others.
          log(`${v}: kill/restart failed: ${e}`);
          await infraUp(target.infra).catch(() => {});
          const notReady = await waitAppsReady(await stackApps(), 180_000);
          kills.push({
            victim: v,
            killedAt,
            recoveredAt: Date.now(),
            notes: [
              `kill/restart failed: ${String(e).split("\n")[0]}`,
              ...(notReady.length ? [`not ready: ${notReady}`] : []),
            ],
          });
        }
      }
      await sleep(cfg.steadySeconds * 1000);
    } finally {
      stop.abort();
      await load;
      await gen.settle();
    }
    const placed = gen.orders.length;
    const acked = gen.orders.filter((o) => o.status === 200 && o.orderId);
    const cancels = gen.orders.filter((o) => o.cancelStatus !== undefined);
    log(
      `load stopped: ${placed} place requests, ${acked.length} acknowledged; ${cancels.length} ` +
        `cancellations (${cancels.filter((o) => o.cancelStatus === 200).length} accepted, ` +
        `${cancels.filter((o) => o.cancelStatus === 409).length} too late)`,
    );

    // Let everything end: orders terminal, consumers caught up (compensations included).
    const groups = CONSUMING_SERVICES.map(consumerGroupOf);
    const last = kills.at(-1)?.recoveredAt ?? Date.now();
    log("waiting for every order to end and every group to catch up…");
    const customers = [...fixture.credits.keys()];
    await waitUntil(
      async () => (await inFlightOrders(target.serviceDbUrl, customers).catch(() => 1)) === 0,
      { timeoutMs: Math.max(5_000, last + cfg.graceMs - Date.now()), intervalMs: 2000 },
    );
    await waitCaughtUp(kafka, groups, 120_000).catch((e) => log(`not caught up: ${e}`));
    await sleep(3000);
    await waitCaughtUp(kafka, groups, 120_000).catch((e) => log(`not caught up: ${e}`));

    const ledger: RunLedger = {
      customers,
      products: [...fixture.added.keys()],
      credits: Object.fromEntries(fixture.credits),
      added: Object.fromEntries(fixture.added),
      acknowledged: acked.map((o) => ({ id: o.orderId!, at: o.answeredAt ?? o.sentAt })),
      recoveries: kills.map((k) => k.recoveredAt),
      startOffsets,
      deadLetterTopics: dlqTopics,
    };
    const snap = await collectSnapshot(target.serviceDbUrl, kafka, ledger);
    const verdicts = checkInvariants({ ...snap, graceMs: cfg.graceMs });
    const recovery: Verdict = {
      name: "every component recovered by itself",
      ok: kills.every((k) => k.notes.length === 0),
      detail: `${kills.length} kills`,
      violations: kills.flatMap((k) => k.notes.map((n) => `${k.victim}: ${n}`)),
    };
    verdicts.unshift(recovery);
    printVerdicts(verdicts, kills);
    if (snap.deadLetters.length) {
      console.log("\ndead letters written during the run:");
      for (const d of snap.deadLetters) {
        console.log(
          `  ${d.topic} ${d.partition}/${d.offset} from ${d.sourceTopic} key ${d.key}` +
            `${d.ours ? "" : " (not this run's)"}: dlq.error=${d.error}`,
        );
      }
    } else console.log("\ndead-letter topics: nothing written during the run");
    const rejectedBy = new Map<string, number>();
    for (const o of snap.orders) {
      const k =
        ({ 3: "rejected", 4: "approved", 5: "delivered", 6: "shipped", 8: "cancelled" } as Record<
          number,
          string
        >)[o.status] ?? "in flight";
      rejectedBy.set(k, (rejectedBy.get(k) ?? 0) + 1);
    }
    console.log(
      `\norders: ${placed} place requests, ${acked.length} acknowledged, ${snap.orders.length} in ` +
        `the database (${[...rejectedBy].map(([k, n]) => `${n} ${k}`).join(", ")})`,
    );
    const rebalances = kills.filter((k) => k.rebalancedAt !== undefined);
    if (rebalances.length) {
      console.log(
        `rebalances: ${
          rebalances.map((k) => `${k.group} ${secs(k.killedAt, k.rebalancedAt)} s`).join(", ")
        }`,
      );
    }
    const summary: RunSummary = {
      replicas: cfg.replicas,
      partitions: cfg.partitions,
      rate: cfg.rate,
      orders: {
        placeRequests: placed,
        acknowledged: acked.length,
        inDatabase: snap.orders.length,
        byStatus: Object.fromEntries(rejectedBy),
        cancellations: cancels.length,
      },
      deadLetters: snap.deadLetters.filter((d) => d.ours).length,
    };
    ok = verdicts.every((v) => v.ok);
    await writeReport(cfg, summary, verdicts, kills, undefined);

    if (cfg.replay) {
      const r = await replay();
      printReplay(r);
      await writeReport(cfg, summary, verdicts, kills, r);
      ok &&= r.ok;
    }
    return ok;
  } finally {
    if (!cfg.keepStack) {
      const stopped = await target.release();
      if (stopped.length) log(`stopped what the suite started: ${stopped.join(", ")}`);
    }
  }
}

async function writeReport(
  cfg: ChaosConfig,
  summary: RunSummary,
  verdicts: Verdict[],
  kills: KillRecord[],
  replay: ReplayResult | undefined,
): Promise<void> {
  const dir = cfg.outDir.replace(/\/*$/, "/");
  await Deno.mkdir(dir, { recursive: true });
  const o = summary.orders;
  const md = [
    `# Stocklet chaos run${cfg.replicas > 1 ? " (scale-out)" : ""} — latest`,
    "",
    `Run ${new Date(t0).toISOString()} on the test stack` +
    (cfg.replicas > 1 || cfg.partitions !== undefined
      ? `, ${cfg.replicas} replicas of every consuming service, ${
        cfg.partitions ?? "the stack's"
      } partitions per topic`
      : "") +
    `, ${cfg.rate} orders/s: ${o.placeRequests} place requests, ${o.acknowledged} acknowledged, ` +
    `${o.inDatabase} orders in the database (${
      Object.entries(o.byStatus).map(([k, n]) => `${n} ${k}`).join(", ")
    }), ${o.cancellations} cancellations.`,
    "",
    mdTable(
      ["invariant", "result", "checked"],
      verdicts.map((v) => [v.name, v.ok ? "PASS" : "FAIL", v.detail]),
    ),
    "",
    ...verdicts.filter((v) => !v.ok).flatMap((v) => [
      `**${v.name}**:`,
      "",
      ...v.violations.map((l) => `- ${l}`),
      "",
    ]),
    mdTable(KILL_HEADER, kills.map(killRow)),
    "",
    replay
      ? `Replay: ${replay.records} records re-delivered to ${replay.groups.length} groups; ` +
        `${replay.tables} tables: ${replay.ok ? "unchanged" : `${replay.diffs.length} changed`}.`
      : "",
    "",
  ].join("\n");
  await Deno.writeTextFile(`${dir}${cfg.name}.md`, md);
  const report: ChaosReport = {
    ok: verdicts.every((v) => v.ok) && (replay?.ok ?? true),
    ...summary,
    verdicts,
    kills,
    ...(replay ? { replay } : {}),
  };
  await Deno.writeTextFile(`${dir}${cfg.name}.json`, JSON.stringify(report, null, 2) + "\n");
}

/**
 * Stops the test stack of this port shift: its processes and its infrastructure; `wipe` also
 * deletes the infrastructure's state (databases, topics), so the next run starts from nothing.
 */
export async function stackDown(wipe = false): Promise<string[]> {
  await stopTestStack();
  const cfg = infraConfig("test");
  const stopped = await infraDown(cfg);
  if (wipe) await infraReset(cfg);
  return stopped;
}

if (import.meta.main) {
  if (Deno.args.includes("--down")) {
    // What a run interrupted midway left behind (the scale-out test calls it in any case).
    const wipe = Deno.args.includes("--wipe");
    const stopped = await stackDown(wipe);
    log(
      `test stack stopped${stopped.length ? ` (infrastructure: ${stopped.join(", ")})` : ""}` +
        (wipe ? "; its databases and topics deleted" : ""),
    );
    Deno.exit(0);
  }
  const ok = await runChaos(parseChaosArgs(Deno.args));
  console.log(ok ? "\nchaos: every invariant held" : "\nchaos: VIOLATIONS (see above)");
  Deno.exit(ok ? 0 : 1);
}
