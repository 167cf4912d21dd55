/**
 * Zipkin in dev (`deno task dev --zipkin`): the server jar with its UI (`io.zipkin:zipkin-server`,
 * classifier `exec`, from Maven Central into the shared jar cache on first use), run with in-memory
 * storage on 127.0.0.1. The dev collector forwards every span it receives to it, in Zipkin's JSON.
 * Off by default: it costs a JVM (about 250 MB).
 * @module
 */
import { dirname, join } from "node:path";
import { aptInstall } from "../infra/apt.ts";
import { type InfraConfig, logFileOf } from "../infra/config.ts";
import { which } from "../infra/jars.ts";
import { InfraError, type Progress, tailFile, waitUntil } from "../infra/process.ts";

/** The Zipkin server release. */
export const ZIPKIN_VERSION = "3.6.1";

/** Zipkin's port in dev: `STOCKLET_ZIPKIN_PORT`, default 9411 (Zipkin's own). */
export function zipkinPort(): number {
  return Number(Deno.env.get("STOCKLET_ZIPKIN_PORT") ?? 9411);
}

/** Zipkin's base URL in dev. */
export function zipkinUrl(): string {
  return `http://127.0.0.1:${zipkinPort()}`;
}

/** The jar in the cache, fetched with Maven when missing. */
export async function ensureZipkinJar(cfg: InfraConfig, onProgress: Progress): Promise<string> {
  const jar = join(cfg.jarsDir, `zipkin-server-${ZIPKIN_VERSION}-exec.jar`);
  try {
    if ((await Deno.stat(jar)).size > 0) return jar;
  } catch { /* not there yet */ }
  const missing = [
    ...(await which("java")) ? [] : ["openjdk-17-jre-headless"],
    ...(await which("mvn")) ? [] : ["maven"],
  ];
  if (missing.length) await aptInstall(missing, "Zipkin (Java)", logFileOf(cfg, "apt"), onProgress);
  onProgress(`zipkin: fetching zipkin-server ${ZIPKIN_VERSION} from Maven Central (135 MB, once)`);
  await Deno.mkdir(cfg.jarsDir, { recursive: true });
  const repo = Deno.env.get("STOCKLET_MAVEN_REPO");
  const out = await new Deno.Command("mvn", {
    args: [
      "-B",
      "-q",
      "dependency:copy",
      `-Dartifact=io.zipkin:zipkin-server:${ZIPKIN_VERSION}:jar:exec`,
      `-DoutputDirectory=${cfg.jarsDir}`,
      ...(repo ? [`-Dmaven.repo.local=${repo}`] : []),
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new InfraError(
      `Maven could not fetch zipkin-server: ${new TextDecoder().decode(out.stdout).slice(-2000)}`,
    );
  }
  return jar;
}

/** A running Zipkin server. */
export interface Zipkin {
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts Zipkin on 127.0.0.1 (in-memory storage); resolves once it answers. */
export async function startZipkin(cfg: InfraConfig, onProgress: Progress): Promise<Zipkin> {
  const jar = await ensureZipkinJar(cfg, onProgress);
  const port = zipkinPort();
  const logFile = join(dirname(logFileOf(cfg, "apt")), "zipkin.log");
  const log = await Deno.open(logFile, { create: true, write: true, truncate: true });
  const child = new Deno.Command("java", {
    args: [
      "-Xms64m",
      "-Xmx256m",
      "-XX:+UseSerialGC",
      // The quick JIT only: Zipkin starts sooner and takes less CPU from the stack.
      "-XX:TieredStopAtLevel=1",
      "-jar",
      jar,
      // Loopback only (Zipkin listens on every interface by default).
      "--armeria.ports[0].ip=127.0.0.1",
      `--armeria.ports[0].port=${port}`,
      "--armeria.ports[0].protocols[0]=http",
    ],
    env: { STORAGE_TYPE: "mem" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  child.stdout.pipeTo(log.writable, { preventClose: true }).catch(() => {});
  child.stderr.pipeTo(log.writable).catch(() => {});
  const url = `http://127.0.0.1:${port}`;
  const up = await waitUntil(async () => {
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      return res.ok;
    } catch {
      return false;
    }
  }, { timeoutMs: 90_000, intervalMs: 500 });
  if (!up) {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
    throw new InfraError(
      `Zipkin did not answer on ${url}; the end of ${logFile}:\n${tailFile(logFile, 20)}`,
    );
  }
  return {
    url,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await child.status.catch(() => {});
    },
  };
}
