/**
 * Detached processes with pid files, liveness checks, TCP probes and log tails: the small
 * process supervisor behind `deno task infra`.
 * @module
 */
import { dirname } from "node:path";

/** Receives progress lines of long steps. */
export type Progress = (line: string) => void;

/** A progress sink that prints nothing. */
export const silent: Progress = () => {};

/** An error of the infrastructure scripts whose message is meant for a human as is. */
export class InfraError extends Error {
  override name = "InfraError";
}

/** Options for {@linkcode spawnDetached}. */
export interface SpawnOptions {
  cmd: string;
  args: string[];
  /** stdout and stderr are appended here; an older log is kept as `<logFile>.1`. */
  logFile: string;
  /** Receives the process id. */
  pidFile: string;
  env?: Record<string, string>;
  cwd?: string;
}

/**
 * The environment of the JVMs (Kafka, Connect): at most two malloc arenas. glibc gives each of a
 * JVM's 50–80 threads its own arena on demand, which leaves tens of MiB of native memory resident
 * for nothing; the JVM's own allocations are few and not contended.
 */
export const JVM_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: "2" };

/**
 * The flags Kafka and Connect share: a small serial-GC heap that may grow to 112 MiB, a young
 * generation kept at 16 MiB (a minor GC of a small live set costs about a millisecond), free heap
 * given back after a full GC (so the JVM stays small over hours instead of growing to its
 * maximum), and native memory the JVM freed (the JIT's arenas, NIO buffers) given back to the
 * system every 5 s (`TrimNativeHeapInterval`, glibc's `malloc_trim`; measured in the bench: the
 * broker at about 176 MiB PSS under load instead of 205, Connect 153 instead of 189, at no cost in
 * throughput). Both keep the full JIT (C2). Only the metaspace bound differs (its classes).
 *
 * @example
 * ```ts
 * const flags = smallJvmFlags(128); // [..., "-XX:MaxMetaspaceSize=128m", ...]
 * ```
 */
export function smallJvmFlags(maxMetaspaceMiB: number): string[] {
  return [
    "-Xms32m",
    "-Xmx112m",
    "-Xmn16m",
    "-XX:MinHeapFreeRatio=10",
    "-XX:MaxHeapFreeRatio=30",
    "-XX:+UseSerialGC",
    `-XX:MaxMetaspaceSize=${maxMetaspaceMiB}m`,
    "-XX:ReservedCodeCacheSize=48m",
    "-Xss512k",
    "-XX:TrimNativeHeapInterval=5000",
    "-Djava.awt.headless=true",
  ];
}

/**
 * Starts a process in its own session (`setsid`, so a Ctrl-C of the caller does not reach it),
 * stdout/stderr to a log file, stdin from /dev/null, and writes its pid file.
 *
 * @returns The process id.
 */
export async function spawnDetached(opts: SpawnOptions): Promise<number> {
  await Deno.mkdir(dirname(opts.logFile), { recursive: true });
  await Deno.mkdir(dirname(opts.pidFile), { recursive: true });
  await rotateLog(opts.logFile);
  await Deno.remove(opts.pidFile).catch(() => {});
  // sh writes its own pid, then execs the program in place: the pid file names the real process.
  const script = 'echo $$ > "$STOCKLET_PIDFILE"; exec "$@" >> "$STOCKLET_LOGFILE" 2>&1 < /dev/null';
  const child = new Deno.Command("setsid", {
    args: ["sh", "-c", script, "sh", opts.cmd, ...opts.args],
    env: { ...opts.env, STOCKLET_PIDFILE: opts.pidFile, STOCKLET_LOGFILE: opts.logFile },
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  child.unref();
  child.status.catch(() => {});
  const ok = await waitUntil(() => readPidFile(opts.pidFile) !== undefined, {
    timeoutMs: 5000,
    intervalMs: 20,
  });
  const pid = readPidFile(opts.pidFile);
  if (!ok || pid === undefined) throw new InfraError(`could not start ${opts.cmd}`);
  return pid;
}

/** Keeps the previous log of a component as `<file>.1` and starts a fresh one. */
export async function rotateLog(file: string): Promise<void> {
  try {
    await Deno.rename(file, `${file}.1`);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

/** The pid in a pid file, or undefined when the file is missing or malformed. */
export function readPidFile(file: string): number | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(file);
  } catch {
    return undefined;
  }
  const pid = Number(text.split("\n")[0]?.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Whether a process exists and is not a zombie (a dead child nobody reaped yet). */
export function isAlive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** A process's command line with spaces between the arguments ("" when it is gone). */
export function cmdlineOf(pid: number): string {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).replaceAll("\0", " ").trim();
  } catch {
    return "";
  }
}

/** The parent pid of a process, or undefined when it is gone. */
export function parentOf(pid: number): number | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[1]);
  } catch {
    return undefined;
  }
}

/**
 * Resident and proportional set sizes of a process in KiB from one read of its smaps_rollup
 * (zeros when it is gone or unreadable). The kernel walks the whole address space for that file
 * (2–4 ms for a Deno process, 17–19 for a JVM), so both come from the one read.
 *
 * @example
 * ```ts
 * const { rss, pss } = memoryKiB(Deno.pid); // e.g. { rss: 61234, pss: 40876 }
 * ```
 */
export function memoryKiB(pid: number): { rss: number; pss: number } {
  try {
    const rollup = Deno.readTextFileSync(`/proc/${pid}/smaps_rollup`);
    const rss = /^Rss:\s+(\d+) kB/m.exec(rollup);
    const pss = /^Pss:\s+(\d+) kB/m.exec(rollup);
    return { rss: rss ? Number(rss[1]) : 0, pss: pss ? Number(pss[1]) : 0 };
  } catch {
    return { rss: 0, pss: 0 };
  }
}

/** The direct children of a process. */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    const child = Number(e.name);
    if (parentOf(child) === pid) out.push(child);
  }
  return out;
}

/** How {@linkcode stopProcess} ended. */
export type StopOutcome = "not-running" | "stopped" | "killed";

/**
 * Sends `signal` (SIGTERM by default), waits up to `timeoutMs` for the process to exit, then
 * sends SIGKILL.
 */
export async function stopProcess(
  pid: number,
  opts: { signal?: Deno.Signal; timeoutMs?: number } = {},
): Promise<StopOutcome> {
  if (!isAlive(pid)) return "not-running";
  try {
    Deno.kill(pid, opts.signal ?? "SIGTERM");
  } catch {
    return "not-running";
  }
  if (await waitUntil(() => !isAlive(pid), { timeoutMs: opts.timeoutMs ?? 20_000 })) {
    return "stopped";
  }
  try {
    Deno.kill(pid, "SIGKILL");
  } catch { /* gone meanwhile */ }
  await waitUntil(() => !isAlive(pid), { timeoutMs: 5000 });
  return "killed";
}

/** Whether something accepts TCP connections on host:port. */
export async function portOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  const conn = Deno.connect({ hostname: host, port, signal: AbortSignal.timeout(timeoutMs) });
  try {
    (await conn).close();
    return true;
  } catch {
    return false;
  }
}

/** Polls `fn` until it returns true or the timeout passes; returns the last result. */
export async function waitUntil(
  fn: () => boolean | Promise<boolean>,
  opts: { timeoutMs: number; intervalMs?: number },
): Promise<boolean> {
  const deadline = performance.now() + opts.timeoutMs;
  for (;;) {
    if (await fn()) return true;
    if (performance.now() >= deadline) return false;
    await sleep(opts.intervalMs ?? 100);
  }
}

/** Resolves after ms milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The last `lines` lines of a text file ("" when it does not exist). */
export function tailFile(file: string, lines = 40): string {
  let text: string;
  try {
    text = Deno.readTextFileSync(file);
  } catch {
    return "";
  }
  const all = text.trimEnd().split("\n");
  return all.slice(-lines).join("\n");
}

/** Seconds since `t0` (a `performance.now()` value), formatted like `1.4 s`. */
export function elapsed(t0: number): string {
  return `${((performance.now() - t0) / 1000).toFixed(1)} s`;
}

/**
 * Runs fn while holding an exclusive lock on a file (flock; released if the process dies), so
 * that two `infra up` (a terminal and a test run) do not start the same component twice.
 */
export async function withFileLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  await Deno.mkdir(dirname(file), { recursive: true });
  const f = await Deno.open(file, { create: true, write: true });
  try {
    await f.lock(true);
    return await fn();
  } finally {
    f.close();
  }
}
