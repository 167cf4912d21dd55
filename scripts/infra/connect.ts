/**
 * Kafka Connect (distributed mode, one worker) with Debezium on its plugin path, and a small
 * client for its REST API (connector config, status, delete).
 * @module
 */
import { join } from "node:path";
import { type InfraConfig, layoutOf, logFileOf, pidFileOf } from "./config.ts";
import { healthError, portTakenError } from "./errors.ts";
import { log4jProperties, props } from "./kafka.ts";
import {
  cmdlineOf,
  elapsed,
  InfraError,
  isAlive,
  JVM_ENV,
  portOpen,
  type Progress,
  readPidFile,
  silent,
  sleep,
  smallJvmFlags,
  spawnDetached,
  tailFile,
  waitUntil,
} from "./process.ts";

/**
 * JVM flags of the Connect worker (see {@linkcode smallJvmFlags}): the full JIT (C2), since limiting
 * it to C1 saves a few MiB but costs throughput (measured: peak 140 → 160 orders/s on 2 cores). Its
 * live heap after a full GC is about 22 MiB; its metaspace bound (160 MiB, the broker's 128) leaves
 * room for the classes of Connect and its plugins.
 */
export const CONNECT_JVM_FLAGS: readonly string[] = smallJvmFlags(160);

/** The Connect REST base URL of a profile. */
export function connectUrlOf(cfg: InfraConfig): string {
  return `http://${cfg.host}:${cfg.ports.connect}`;
}

/** The worker's properties (pure). */
export function workerProperties(cfg: InfraConfig, pluginDir: string): string {
  return props({
    "bootstrap.servers": `${cfg.host}:${cfg.ports.kafka}`,
    "group.id": "stocklet-connect",
    "plugin.path": pluginDir,
    // Scans only ServiceLoader manifests: REST is up in about 2 s instead of 3.5 s.
    "plugin.discovery": "service_load",
    "key.converter": "org.apache.kafka.connect.storage.StringConverter",
    "value.converter": "org.apache.kafka.connect.converters.ByteArrayConverter",
    "config.storage.topic": "stocklet-connect-configs",
    "config.storage.replication.factor": "1",
    "offset.storage.topic": "stocklet-connect-offsets",
    "offset.storage.replication.factor": "1",
    "offset.storage.partitions": "1",
    "status.storage.topic": "stocklet-connect-status",
    "status.storage.replication.factor": "1",
    "status.storage.partitions": "1",
    // Source offsets (the WAL position) are committed every second: after a crash (kill -9)
    // at most about a second of events is sent again. Consumers dedupe on the `id` header.
    "offset.flush.interval.ms": "1000",
    // One worker: a restarted worker gets its connectors back at once, not after 5 minutes.
    "scheduled.rebalance.max.delay.ms": "0",
    "listeners": `http://${cfg.host}:${cfg.ports.connect}`,
    "rest.advertised.host.name": cfg.host,
    "rest.advertised.port": String(cfg.ports.connect),
  });
}

/** The worker's pid if it runs with this profile's config. */
export function connectPid(cfg: InfraConfig): number | undefined {
  const pid = readPidFile(pidFileOf(cfg, "connect"));
  const conf = join(layoutOf(cfg).connectDir, "worker.properties");
  return pid !== undefined && isAlive(pid) && cmdlineOf(pid).includes(conf) ? pid : undefined;
}

/** Whether the REST API answers `GET /connectors` with 200. */
export async function connectAnswers(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/connectors`, { signal: AbortSignal.timeout(2000) });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}

/**
 * Starts the Connect worker unless it already runs (then it is reused), and waits for its REST
 * API.
 *
 * @returns Whether this call started it.
 */
export async function ensureConnect(
  cfg: InfraConfig,
  libDir: string,
  pluginDir: string,
  onProgress: Progress = silent,
): Promise<boolean> {
  const layout = layoutOf(cfg);
  const logFile = logFileOf(cfg, "connect");
  const url = connectUrlOf(cfg);
  const port = cfg.ports.connect;
  const running = connectPid(cfg);
  if (running !== undefined) {
    if (!(await waitUntil(() => connectAnswers(url), { timeoutMs: 60_000, intervalMs: 200 }))) {
      throw healthError("connect", running, port, logFile);
    }
    return false;
  }
  if (await portOpen(cfg.host, port)) throw portTakenError("connect", port, cfg);
  const t0 = performance.now();
  await Deno.mkdir(layout.connectDir, { recursive: true });
  const workerConf = join(layout.connectDir, "worker.properties");
  const log4j = join(layout.connectDir, "log4j.properties");
  await Deno.writeTextFile(workerConf, workerProperties(cfg, pluginDir));
  await Deno.writeTextFile(log4j, log4jProperties("INFO", "System.out"));
  onProgress(`connect: starting the worker on ${url}`);
  const pid = await spawnDetached({
    cmd: "java",
    args: [
      ...CONNECT_JVM_FLAGS,
      `-Dlog4j.configuration=file:${log4j}`,
      "-cp",
      `${libDir}/*`,
      "org.apache.kafka.connect.cli.ConnectDistributed",
      workerConf,
    ],
    env: JVM_ENV,
    logFile,
    pidFile: pidFileOf(cfg, "connect"),
    cwd: layout.connectDir,
  });
  const ready = await waitUntil(async () => !isAlive(pid) || (await connectAnswers(url)), {
    timeoutMs: 120_000,
    intervalMs: 200,
  });
  if (!ready || !isAlive(pid)) {
    throw new InfraError(
      `connect (pid ${pid}) ${
        isAlive(pid) ? "did not answer GET /connectors in 120 s" : "exited"
      }.\n--- the end of ${logFile}:\n${tailFile(logFile, 40)}\n` +
        "Fix the cause above (is the broker up? `deno task infra status`), then " +
        "`deno task infra up` again.",
    );
  }
  onProgress(`connect: REST ready on port ${port} in ${elapsed(t0)}`);
  return true;
}

/** A connector's state as `GET /connectors/<name>/status` reports it. */
export interface ConnectorStatus {
  name: string;
  connector: { state: string; worker_id?: string; trace?: string };
  tasks: { id: number; state: string; worker_id?: string; trace?: string }[];
}

/**
 * One REST call. While the worker rebalances (a connector was just added elsewhere), Connect
 * answers 409, or 500 "a rebalance is expected": those are retried for up to 30 s.
 */
async function rest(
  url: string,
  method: string,
  body?: unknown,
): Promise<{ status: number; json: unknown; text: string }> {
  const deadline = performance.now() + 30_000;
  for (;;) {
    const res = await fetch(url, {
      method,
      headers: { "content-type": "application/json", accept: "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    const rebalancing = res.status === 409 || (res.status === 500 && /rebalance/i.test(text));
    if (rebalancing && performance.now() < deadline) {
      await sleep(250);
      continue;
    }
    let json: unknown = undefined;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch { /* not JSON */ }
    return { status: res.status, json, text };
  }
}

/** A connector's config, or undefined when there is no such connector. */
export async function getConnectorConfig(
  connectUrl: string,
  name: string,
): Promise<Record<string, string> | undefined> {
  const r = await rest(`${connectUrl}/connectors/${encodeURIComponent(name)}/config`, "GET");
  if (r.status === 404) return undefined;
  if (r.status !== 200) throw new InfraError(`GET connector ${name} config: ${r.status} ${r.text}`);
  return r.json as Record<string, string>;
}

/**
 * Creates or updates a connector (`PUT /connectors/<name>/config`); a non-2xx answer throws.
 *
 * @returns `created` (201) or `updated` (200).
 */
export async function putConnectorConfig(
  connectUrl: string,
  name: string,
  config: Record<string, string>,
): Promise<"created" | "updated"> {
  const r = await rest(
    `${connectUrl}/connectors/${encodeURIComponent(name)}/config`,
    "PUT",
    config,
  );
  if (r.status === 201) return "created";
  if (r.status >= 200 && r.status < 300) return "updated";
  throw new InfraError(`PUT connector ${name} config: HTTP ${r.status} ${r.text}`);
}

/** A connector's status, or undefined when there is no such connector (yet). */
export async function getConnectorStatus(
  connectUrl: string,
  name: string,
): Promise<ConnectorStatus | undefined> {
  const r = await rest(`${connectUrl}/connectors/${encodeURIComponent(name)}/status`, "GET");
  if (r.status === 404) return undefined;
  if (r.status !== 200) throw new InfraError(`GET connector ${name} status: ${r.status} ${r.text}`);
  return r.json as ConnectorStatus;
}

/**
 * Waits until a connector and all its tasks (at least one) are RUNNING; a FAILED connector or
 * task, or the timeout, throws with its trace.
 */
export async function waitConnectorRunning(
  connectUrl: string,
  name: string,
  timeoutMs = 60_000,
): Promise<ConnectorStatus> {
  const deadline = performance.now() + timeoutMs;
  let last: ConnectorStatus | undefined;
  for (;;) {
    last = await getConnectorStatus(connectUrl, name).catch(() => undefined);
    if (last) {
      const failed = [last.connector, ...last.tasks].find((s) => s.state === "FAILED");
      if (failed) {
        throw new InfraError(
          `connector ${name} FAILED:\n${failed.trace ?? "(no trace)"}\n` +
            "The Connect log (`deno task infra logs connect`) has the details.",
        );
      }
      if (
        last.connector.state === "RUNNING" && last.tasks.length > 0 &&
        last.tasks.every((t) => t.state === "RUNNING")
      ) {
        return last;
      }
    }
    if (performance.now() >= deadline) {
      throw new InfraError(
        `connector ${name} is not RUNNING after ${timeoutMs / 1000} s: ${
          JSON.stringify(last ?? "no status")
        }`,
      );
    }
    await sleep(100);
  }
}

/**
 * Deletes a connector (no error when it does not exist).
 *
 * @returns Whether it existed.
 */
export async function deleteConnector(connectUrl: string, name: string): Promise<boolean> {
  const r = await rest(`${connectUrl}/connectors/${encodeURIComponent(name)}`, "DELETE");
  if (r.status === 404) return false;
  if (r.status >= 200 && r.status < 300) return true;
  throw new InfraError(`DELETE connector ${name}: HTTP ${r.status} ${r.text}`);
}

/**
 * Restarts a connector's failed instances (`POST /connectors/<name>/restart?includeTasks=true&onlyFailed=true`).
 */
export async function restartFailed(connectUrl: string, name: string): Promise<void> {
  const r = await rest(
    `${connectUrl}/connectors/${
      encodeURIComponent(name)
    }/restart?includeTasks=true&onlyFailed=true`,
    "POST",
  );
  if (r.status < 200 || r.status >= 300) {
    throw new InfraError(`restart connector ${name}: HTTP ${r.status} ${r.text}`);
  }
}

/** Names of the connectors. */
export async function listConnectors(connectUrl: string): Promise<string[]> {
  const r = await rest(`${connectUrl}/connectors`, "GET");
  if (r.status !== 200) throw new InfraError(`GET /connectors: HTTP ${r.status} ${r.text}`);
  return r.json as string[];
}

/** Pauses a connector (its task stops polling; nothing is relayed or confirmed). */
export async function pauseConnector(connectUrl: string, name: string): Promise<void> {
  const r = await rest(`${connectUrl}/connectors/${encodeURIComponent(name)}/pause`, "PUT");
  if (r.status < 200 || r.status >= 300) {
    throw new InfraError(`pause connector ${name}: HTTP ${r.status} ${r.text}`);
  }
}

/** Resumes a paused connector. */
export async function resumeConnector(connectUrl: string, name: string): Promise<void> {
  const r = await rest(`${connectUrl}/connectors/${encodeURIComponent(name)}/resume`, "PUT");
  if (r.status < 200 || r.status >= 300) {
    throw new InfraError(`resume connector ${name}: HTTP ${r.status} ${r.text}`);
  }
}

/** Stops a connector (KIP-875: its tasks shut down; its offsets can then be changed). */
export async function stopConnector(connectUrl: string, name: string): Promise<void> {
  const r = await rest(`${connectUrl}/connectors/${encodeURIComponent(name)}/stop`, "PUT");
  if (r.status < 200 || r.status >= 300) {
    throw new InfraError(`stop connector ${name}: HTTP ${r.status} ${r.text}`);
  }
}

/** Forgets a stopped connector's source offsets (KIP-875): it starts as new when resumed. */
export async function resetConnectorOffsets(connectUrl: string, name: string): Promise<void> {
  const deadline = performance.now() + 30_000;
  for (;;) {
    const r = await rest(`${connectUrl}/connectors/${encodeURIComponent(name)}/offsets`, "DELETE");
    if (r.status >= 200 && r.status < 300) return;
    // Until the stop has taken effect, Connect refuses with 400.
    if (r.status !== 400 || performance.now() > deadline) {
      throw new InfraError(`reset offsets of connector ${name}: HTTP ${r.status} ${r.text}`);
    }
    await sleep(250);
  }
}
