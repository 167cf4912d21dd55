/**
 * Gives the native memory a process freed back to the system, as the JVMs of the stack do
 * (`-XX:TrimNativeHeapInterval`): every few seconds, glibc's `malloc_trim(0)` through FFI.
 *
 * Why: glibc keeps what it freed inside its heap for the next allocation, and gives back only the
 * top of it. A burst of connections (the edge at twice the peak offered holds about 900 sockets, the
 * order service 400, each with hyper's buffers) grows the heap; when they close, the memory is free
 * but still counted against the process, for as long as one live allocation sits above it.
 * Measured after such a burst, on a quiet stack: one `malloc_trim(0)` took the edge from 73 to 52
 * MiB and the order service from 75 to 67, about 45 MiB over the eight Deno processes. It changes
 * nothing at a peak (the memory is in use then); it is what comes after a peak that it lowers.
 *
 * Where glibc is not the C library (musl, macOS, Windows) the FFI call is unavailable and nothing
 * runs.
 * @module
 */
import { int, loadConfig } from "./config.ts";
import { getLog } from "./logging.ts";

const log = getLog("memory");

/** How often freed native memory is given back by default (ms), like the JVMs' 5000. */
export const DEFAULT_TRIM_INTERVAL_MS = 5_000;

type Trim = () => number;

let trimmer: Trim | null | undefined;

/** glibc's `malloc_trim(0)`, or null where it cannot be loaded. */
function loadTrim(): Trim | null {
  if (trimmer !== undefined) return trimmer;
  try {
    const libc = Deno.dlopen("libc.so.6", {
      malloc_trim: { parameters: ["usize"], result: "i32" },
    });
    trimmer = () => libc.symbols.malloc_trim(0n);
  } catch (error) {
    log.debug("no malloc_trim here (not glibc, or no FFI permission): {error}", { error });
    trimmer = null;
  }
  return trimmer;
}

/**
 * Gives freed native memory back once; true when glibc returned some.
 *
 * @example
 * ```ts
 * await server.shutdown(); // its connections' buffers are freed, but glibc keeps them
 * trimNativeHeap(); // …until now: they go back to the system
 * ```
 */
export function trimNativeHeap(): boolean {
  return (loadTrim()?.() ?? 0) === 1;
}

/**
 * Trims every `intervalMs` (from `MALLOC_TRIM_INTERVAL_MS`, default 5000; 0 turns it off) until
 * the returned function is called. The timer does not keep the process alive.
 *
 * @example
 * ```ts
 * const stopTrimming = trimNativeHeapEvery();
 * // …at shutdown
 * stopTrimming();
 * ```
 */
export function trimNativeHeapEvery(intervalMs: number = trimIntervalFromEnv()): () => void {
  if (intervalMs <= 0 || !loadTrim()) return () => {};
  const timer = setInterval(trimNativeHeap, intervalMs);
  Deno.unrefTimer(timer);
  return () => clearInterval(timer);
}

/**
 * `MALLOC_TRIM_INTERVAL_MS` (ms; 0: never; default 5000); a value that is not a whole number ≥ 0
 * is a ConfigError, like every other variable's.
 */
export function trimIntervalFromEnv(env?: Record<string, string | undefined>): number {
  return loadConfig({
    ms: int("MALLOC_TRIM_INTERVAL_MS", { default: DEFAULT_TRIM_INTERVAL_MS, min: 0 }),
  }, env).ms;
}
