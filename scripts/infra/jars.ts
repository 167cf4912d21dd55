/**
 * The Kafka, Connect and Debezium jars, resolved by Maven from `deploy/local/pom.xml` into the
 * shared jar cache (`.stocklet/jars`). Maven runs only when the poms changed (a stamp file holds
 * a hash of them) or the jars are missing. `STOCKLET_MAVEN_REPO` points Maven at another local
 * repository (default `~/.m2/repository`).
 * @module
 */
import { join } from "node:path";
import { ROOT } from "../lib/paths.ts";
import { type InfraConfig, layoutOf, logFileOf } from "./config.ts";
import { aptInstall } from "./apt.ts";
import { elapsed, InfraError, type Progress, silent, tailFile, withFileLock } from "./process.ts";

/** The pom that lists the jars (an aggregator of `kafka/` and `debezium/`). */
export const POM_DIR: string = join(ROOT, "deploy", "local");
const POMS = ["pom.xml", "kafka/pom.xml", "debezium/pom.xml"];

/** Where the jars are. */
export interface Jars {
  /** Broker, tools and Connect classpath folder. */
  libDir: string;
  /** Connect `plugin.path` (holds `debezium-connector-postgres/`). */
  pluginDir: string;
  /** Whether Maven ran in this call. */
  resolved: boolean;
}

async function pomHash(): Promise<string> {
  const parts: string[] = [];
  for (const p of POMS) parts.push(p, await Deno.readTextFile(join(POM_DIR, p)));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(parts.join("\0")));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function countJars(dir: string): number {
  try {
    return [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".jar")).length;
  } catch {
    return 0;
  }
}

/**
 * Makes sure the jars are in the cache: skips Maven when the stamp matches, else runs
 * `mvn generate-resources` with a progress line counting the artifacts it downloads.
 *
 * @returns The lib and plugin folders.
 */
export async function ensureJars(cfg: InfraConfig, onProgress: Progress = silent): Promise<Jars> {
  // Both profiles share the cache: one Maven at a time.
  return await withFileLock(join(cfg.jarsDir, ".lock"), () => resolveJars(cfg, onProgress));
}

async function resolveJars(cfg: InfraConfig, onProgress: Progress): Promise<Jars> {
  const { libDir, pluginDir } = layoutOf(cfg);
  const stampFile = join(cfg.jarsDir, ".stamp");
  const hash = await pomHash();
  const stamp = await Deno.readTextFile(stampFile).catch(() => "");
  const debezium = join(pluginDir, "debezium-connector-postgres");
  if (stamp.trim() === hash && countJars(libDir) > 0 && countJars(debezium) > 0) {
    return { libDir, pluginDir, resolved: false };
  }
  await Deno.mkdir(layoutOf(cfg).logs, { recursive: true });
  const missing = [
    ...(await which("java")) ? [] : ["openjdk-17-jre-headless"],
    ...(await which("mvn")) ? [] : ["maven"],
  ];
  if (missing.length) {
    await aptInstall(missing, "Kafka and Debezium (Java)", logFileOf(cfg, "apt"), onProgress);
  }
  const t0 = performance.now();
  onProgress("jars: resolving Kafka 3.9.2, Connect and Debezium with Maven (first run only)");
  await Deno.remove(libDir, { recursive: true }).catch(() => {});
  await Deno.remove(pluginDir, { recursive: true }).catch(() => {});
  await Deno.remove(stampFile).catch(() => {});
  await Deno.mkdir(cfg.jarsDir, { recursive: true });
  const logFile = logFileOf(cfg, "maven");
  const repo = Deno.env.get("STOCKLET_MAVEN_REPO");
  const args = [
    "-B",
    "-Dstyle.color=never",
    "-f",
    join(POM_DIR, "pom.xml"),
    `-Dstocklet.jars=${cfg.jarsDir}`,
    ...(repo ? [`-Dmaven.repo.local=${repo}`] : []),
    "generate-resources",
  ];
  const child = new Deno.Command("mvn", {
    args,
    cwd: POM_DIR,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const log = await Deno.open(logFile, { create: true, write: true, truncate: true });
  let downloaded = 0;
  let lastReport = performance.now();
  const dec = new TextDecoder();
  const pump = async (stream: ReadableStream<Uint8Array>): Promise<void> => {
    let rest = "";
    for await (const chunk of stream) {
      await log.write(chunk);
      const text = rest + dec.decode(chunk, { stream: true });
      const lines = text.split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) {
        if (line.includes("Downloaded from")) downloaded++;
      }
      if (performance.now() - lastReport > 1000) {
        lastReport = performance.now();
        onProgress(`jars: ${downloaded} artifacts downloaded (${elapsed(t0)})`);
      }
    }
  };
  await Promise.all([pump(child.stdout), pump(child.stderr)]);
  const { code } = await child.status;
  log.close();
  if (code !== 0) {
    throw new InfraError(
      `Maven failed (exit ${code}); the end of ${logFile}:\n${tailFile(logFile, 40)}\n` +
        "Check that Maven Central is reachable (mvn honours ~/.m2/settings.xml proxies), then retry.",
    );
  }
  const libs = countJars(libDir);
  const plugins = countJars(debezium);
  if (libs === 0 || plugins === 0) {
    throw new InfraError(`Maven succeeded but copied no jars into ${cfg.jarsDir}; see ${logFile}`);
  }
  await Deno.writeTextFile(stampFile, `${hash}\n`);
  onProgress(
    `jars: ${libs} Kafka/Connect jars, ${plugins} Debezium jars ` +
      `(${downloaded} artifacts downloaded) in ${elapsed(t0)}`,
  );
  return { libDir, pluginDir, resolved: true };
}

/** Whether a program is on PATH. */
export async function which(program: string): Promise<boolean> {
  const out = await new Deno.Command("sh", {
    args: ["-c", 'command -v "$1" >/dev/null 2>&1', "sh", program],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).output();
  return out.code === 0;
}
