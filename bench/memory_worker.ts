/**
 * The memory sampler's worker thread (started by bench/memory_thread.ts): every `intervalMs` it
 * finds the stack's processes and reads their memory from /proc, and posts the sample. The reads
 * block this thread only, never the load generator's.
 *
 * Messages in: `{ start: { kind, cfg, intervalMs } }` once, then `{ stop: true }`, answered with
 * one last sample marked `last` before the thread closes itself.
 * @module
 */
/// <reference lib="deno.worker" />
import type { InfraConfig } from "@stocklet/scripts/infra";
import { processesOf, type StackKind } from "./processes.ts";
import { readSample, type SampleRow } from "./rss.ts";

/** A message from the worker. */
export interface SampleMessage {
  rows?: SampleRow[];
  /** The answer to `stop`: no sample follows. */
  last?: boolean;
  error?: string;
}

/** A message to the worker. */
export interface ControlMessage {
  start?: { kind: StackKind; cfg: InfraConfig; intervalMs: number };
  stop?: true;
}

let timer: ReturnType<typeof setTimeout> | undefined;
let source: ControlMessage["start"];
let stopping = false;

async function sampleOnce(): Promise<SampleRow[]> {
  return readSample(await processesOf(source!.kind, source!.cfg));
}

async function tick(): Promise<void> {
  timer = undefined;
  if (stopping) return;
  const began = Date.now();
  try {
    self.postMessage({ rows: await sampleOnce() } satisfies SampleMessage);
  } catch (e) {
    self.postMessage({ error: e instanceof Error ? e.message : String(e) } satisfies SampleMessage);
  }
  // A fixed period from start to start while reading is faster than the period.
  if (!stopping) timer = setTimeout(tick, Math.max(0, source!.intervalMs - (Date.now() - began)));
}

self.onmessage = async (e: MessageEvent<ControlMessage>) => {
  if (e.data.start && !source) {
    source = e.data.start;
    await tick();
  } else if (e.data.stop) {
    stopping = true;
    if (timer !== undefined) clearTimeout(timer);
    let rows: SampleRow[] | undefined;
    try {
      rows = source ? await sampleOnce() : undefined;
    } catch { /* the last sample is best effort */ }
    self.postMessage({ ...(rows ? { rows } : {}), last: true } satisfies SampleMessage);
    self.close();
  }
};
