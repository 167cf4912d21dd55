/**
 * The local infrastructure without Docker: PostgreSQL 15 (logical WAL), Kafka 3.9.2 (KRaft) and
 * Kafka Connect with Debezium, as plain processes on 127.0.0.1 with their state under
 * `.stocklet/` (see {@linkcode infraConfig} for profiles, ports and environment variables).
 *
 * @example
 * ```ts
 * const infra = await ensureInfra("test");
 * const sql = postgres(infra.serviceDbUrl("order"));
 * const kafka = new Kafka({ brokers: infra.kafkaBrokers });
 * ```
 * @module
 */
import { join } from "node:path";
import {
  type Component,
  COMPONENTS,
  type InfraConfig,
  infraConfig,
  type InfraProfile,
  layoutOf,
  logFileOf,
  pgUrlOf,
  pidFileOf,
  serviceDbSocketUrlOf,
  serviceDbUrlOf,
} from "./config.ts";
import { connectAnswers, connectPid, connectUrlOf, ensureConnect } from "./connect.ts";
import { ensureJars } from "./jars.ts";
import { ensureKafka, kafkaPid } from "./kafka.ts";
import { ensurePostgres, postgresPid } from "./postgres.ts";
import {
  childrenOf,
  elapsed,
  memoryKiB,
  portOpen,
  type Progress,
  silent,
  type StopOutcome,
  stopProcess,
  withFileLock,
} from "./process.ts";

export * from "./config.ts";
export { InfraError, type Progress } from "./process.ts";

/** What {@linkcode infraUp} gives: where everything is, and what it started. */
export interface InfraHandle {
  config: InfraConfig;
  /** Components this call started (the others already ran and were reused). */
  started: Component[];
  /** An administrator's `postgres://stocklet:stocklet@127.0.0.1:<port>/<db>` URL. */
  pgUrl(db: string): string;
  /** A service's own URL: its role on its database (see {@linkcode serviceDbUrlOf}). */
  serviceDbUrl(service: string): string;
  /** The same through the Unix socket (see {@linkcode serviceDbSocketUrlOf}). */
  serviceDbSocketUrl(service: string): string;
  /** `["127.0.0.1:<port>"]`. */
  kafkaBrokers: string[];
  /** `http://127.0.0.1:<port>` (Kafka Connect REST). */
  connectUrl: string;
}

/** Options for {@linkcode infraUp}. */
export interface UpOptions {
  /** Receives progress lines (installs, downloads, each start with its time). @default silent */
  onProgress?: Progress;
}

/**
 * The endpoints of a profile, whether or not it runs (pure).
 *
 * @param started What to report as started.
 */
export function infraHandle(cfg: InfraConfig, started: Component[] = []): InfraHandle {
  return {
    config: cfg,
    started,
    pgUrl: (db: string) => pgUrlOf(cfg, db),
    serviceDbUrl: (service: string) => serviceDbUrlOf(cfg, service),
    serviceDbSocketUrl: (service: string) => serviceDbSocketUrlOf(cfg, service),
    kafkaBrokers: [`${cfg.host}:${cfg.ports.kafka}`],
    connectUrl: connectUrlOf(cfg),
  };
}

function lockFile(cfg: InfraConfig): string {
  return join(layoutOf(cfg).run, "lock");
}

/**
 * Starts what does not run yet, idempotently: a component whose pid file names a live process
 * that answers on its port is reused, so on a running stack this is a no-op. Installs
 * PostgreSQL (apt, as root) and fetches the jars (Maven) on first use.
 *
 * @returns The endpoints, and which components this call started.
 * @example
 * ```ts
 * const infra = await infraUp(infraConfig("dev"), { onProgress: console.error });
 * console.log(infra.started); // [] when everything already ran
 * ```
 */
export function infraUp(cfg: InfraConfig, opts: UpOptions = {}): Promise<InfraHandle> {
  const onProgress = opts.onProgress ?? silent;
  return withFileLock(lockFile(cfg), async () => {
    const t0 = performance.now();
    const started: Component[] = [];
    // PostgreSQL and (jars → broker) are independent: bring them up side by side.
    const [pg, kafka] = await Promise.allSettled([
      ensurePostgres(cfg, onProgress),
      (async () => {
        // Jars are only looked at when a JVM has to start: a running stack keeps its own.
        const needJars = kafkaPid(cfg) === undefined || connectPid(cfg) === undefined;
        const { libDir, pluginDir } = layoutOf(cfg);
        const jars = needJars ? await ensureJars(cfg, onProgress) : { libDir, pluginDir };
        return { jars, started: await ensureKafka(cfg, jars.libDir, onProgress) };
      })(),
    ]);
    if (pg.status === "rejected") throw pg.reason;
    if (kafka.status === "rejected") throw kafka.reason;
    if (pg.value) started.push("postgres");
    if (kafka.value.started) started.push("kafka");
    const { libDir, pluginDir } = kafka.value.jars;
    if (await ensureConnect(cfg, libDir, pluginDir, onProgress)) started.push("connect");
    onProgress(
      started.length
        ? `up (${cfg.profile}): started ${started.join(", ")} in ${elapsed(t0)}`
        : `up (${cfg.profile}): everything already runs`,
    );
    return infraHandle(cfg, started);
  });
}

/**
 * {@linkcode infraUp} for a profile, with progress on stderr: what tests call first.
 *
 * @example
 * ```ts
 * const infra = await ensureInfra("test");
 * ```
 */
export function ensureInfra(profile: InfraProfile): Promise<InfraHandle> {
  return infraUp(infraConfig(profile), {
    onProgress: (line) => console.error(`infra[${profile}] ${line}`),
  });
}

/** The pid of a component if it runs for this profile. */
export function componentPid(cfg: InfraConfig, component: Component): number | undefined {
  switch (component) {
    case "postgres":
      return postgresPid(cfg);
    case "kafka":
      return kafkaPid(cfg);
    case "connect":
      return connectPid(cfg);
  }
}

function portOf(cfg: InfraConfig, component: Component): number {
  return component === "postgres"
    ? cfg.ports.postgres
    : component === "kafka"
    ? cfg.ports.kafka
    : cfg.ports.connect;
}

/**
 * Stops one component if its pid file names a live process of this profile: SIGTERM (SIGINT,
 * PostgreSQL's fast shutdown, for postgres), then SIGKILL after a timeout.
 *
 * @returns How it ended (`not-running` when there was nothing of ours to stop).
 */
export async function stopComponent(cfg: InfraConfig, component: Component): Promise<StopOutcome> {
  const pidFile = pidFileOf(cfg, component);
  let pid: number | undefined;
  try {
    await Deno.stat(pidFile);
    pid = componentPid(cfg, component);
  } catch {
    return "not-running"; // no pid file: not started by infra up
  }
  const outcome = pid === undefined ? "not-running" : await stopProcess(pid, {
    signal: component === "postgres" ? "SIGINT" : "SIGTERM",
    timeoutMs: component === "kafka" ? 60_000 : 30_000,
  });
  await Deno.remove(pidFile).catch(() => {});
  return outcome;
}

/**
 * Stops what `infra up` started (by pid file), Connect first and PostgreSQL last.
 *
 * @returns The components that were running and are now stopped.
 */
export function infraDown(cfg: InfraConfig, opts: UpOptions = {}): Promise<Component[]> {
  const onProgress = opts.onProgress ?? silent;
  return withFileLock(lockFile(cfg), async () => {
    const stopped: Component[] = [];
    for (const c of [...COMPONENTS].reverse()) {
      const t0 = performance.now();
      const outcome = await stopComponent(cfg, c);
      if (outcome === "not-running") continue;
      stopped.push(c);
      onProgress(`${c}: ${outcome} in ${elapsed(t0)}`);
    }
    return stopped;
  });
}

/**
 * Stops everything and deletes the profile's state (databases, topics, logs). The shared jar
 * cache is kept.
 */
export async function infraReset(cfg: InfraConfig, opts: UpOptions = {}): Promise<void> {
  await infraDown(cfg, opts);
  await Deno.remove(cfg.stateDir, { recursive: true }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
  (opts.onProgress ?? silent)(`reset: removed ${cfg.stateDir}`);
}

/** One component's state. */
export interface ComponentStatus {
  component: Component;
  /** The pid, when a process of this profile runs. */
  pid?: number;
  port: number;
  /** Whether the port accepts connections (Connect: whether REST answers). */
  answering: boolean;
  /** Resident memory in MiB (PostgreSQL: the sum over all its processes). */
  rssMiB: number;
  /**
   * Proportional memory in MiB: shared pages split between the processes sharing them. For
   * PostgreSQL (shared buffers mapped by every backend) this is the honest sum.
   */
  pssMiB: number;
  logFile: string;
}

/**
 * What runs: pid, port, health and memory of each component.
 *
 * @example
 * ```ts
 * for (const s of await infraStatus(infraConfig("dev"))) console.log(s.component, s.answering);
 * ```
 */
export async function infraStatus(cfg: InfraConfig): Promise<ComponentStatus[]> {
  const out: ComponentStatus[] = [];
  for (const component of COMPONENTS) {
    const pid = componentPid(cfg, component);
    const port = portOf(cfg, component);
    const answering = component === "connect"
      ? await connectAnswers(connectUrlOf(cfg))
      : await portOpen(cfg.host, port);
    let kib = 0;
    let pss = 0;
    if (pid !== undefined) {
      const pids = component === "postgres" ? [pid, ...childrenOf(pid)] : [pid];
      for (const p of pids) {
        const m = memoryKiB(p);
        kib += m.rss;
        pss += m.pss;
      }
    }
    out.push({
      component,
      ...(pid === undefined ? {} : { pid }),
      port,
      answering,
      rssMiB: Math.round(kib / 1024),
      pssMiB: Math.round(pss / 1024),
      logFile: logFileOf(cfg, component),
    });
  }
  return out;
}
