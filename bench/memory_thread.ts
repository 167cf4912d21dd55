/**
 * Memory sampling off the load generator's thread. A sample of the whole stack reads
 * /proc/<pid>/smaps_rollup for some 40 processes, and for each the kernel walks the whole address
 * space: 2–4 ms for a Deno process, 17–19 ms for each JVM, 90–230 ms in all. Read every second
 * on the bench's own thread, it held up the load generator's event loop that long: answers and
 * the terminal poll's results waited, and the p99 measured at 60 orders/s grew by 30–50 ms
 * (measured with and without it; README, Performance). Here a worker thread reads /proc
 * (bench/memory_worker.ts) and the generator's thread only folds each sample in.
 * @module
 */
import type { InfraConfig } from "@stocklet/scripts/infra";
import type { StackKind } from "./processes.ts";
import type { RssSampler } from "./rss.ts";
import type { ControlMessage, SampleMessage } from "./memory_worker.ts";

/** A running worker that samples the stack's memory into an {@linkcode RssSampler}. */
export class MemoryThread {
  #worker: Worker;
  #done: Promise<void>;
  #finished!: () => void;
  #stopped = false;
  /** Samples the worker could not take (e.g. /proc unreadable), with the last reason. */
  failures = 0;
  lastError: string | undefined;

  private constructor(readonly sampler: RssSampler) {
    this.#worker = new Worker(new URL("./memory_worker.ts", import.meta.url).href, {
      type: "module",
    });
    this.#done = new Promise((resolve) => (this.#finished = resolve));
    this.#worker.onmessage = (e: MessageEvent<SampleMessage>) => {
      if (e.data.rows) sampler.record(e.data.rows);
      if (e.data.error) {
        this.failures++;
        this.lastError = e.data.error;
      }
      if (e.data.last) this.#finished();
    };
    this.#worker.onerror = (e) => {
      this.failures++;
      this.lastError = e.message;
      e.preventDefault();
      this.#finished();
    };
  }

  /**
   * Starts sampling the stack's processes every `intervalMs` into `sampler`.
   *
   * @example
   * ```ts
   * const thread = MemoryThread.start(new RssSampler(), "test", cfg);
   * // … the phases …
   * await thread.stop();
   * const memory = thread.sampler.report();
   * ```
   */
  static start(
    sampler: RssSampler,
    kind: StackKind,
    cfg: InfraConfig,
    intervalMs = 1000,
  ): MemoryThread {
    const t = new MemoryThread(sampler);
    t.#worker.postMessage({ start: { kind, cfg, intervalMs } } satisfies ControlMessage);
    return t;
  }

  /** Takes one last sample, then ends the thread (at most `timeoutMs` waiting for it). */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#worker.postMessage({ stop: true } satisfies ControlMessage);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#done,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
    this.#worker.terminate();
  }
}
