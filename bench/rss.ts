/**
 * Peak memory of every process of the stack, sampled from /proc while the bench runs: per process
 * group (an app, or an infrastructure component with its children) the peak RSS and PSS, and the
 * peak of the whole stack's total at one instant. PostgreSQL's RSS sum counts its shared buffers
 * once per backend; PSS splits shared pages fairly, so both are reported.
 * @module
 */
import { memoryKiB } from "@stocklet/scripts/infra/process";
import type { ProcessGroup } from "./processes.ts";

/** Peak memory of one process group. */
export interface GroupPeak {
  name: string;
  kind: "app" | "infra" | "external" | "bench";
  /** Peak of the group's summed RSS, MiB. */
  rssMiB: number;
  /** Peak of the group's summed PSS, MiB. */
  pssMiB: number;
  /** Most processes seen in the group at once. */
  processes: number;
}

/** What a sampler found. */
export interface RssReport {
  groups: GroupPeak[];
  /** Peak of the stack's total RSS (apps + infra, not the bench) at one sample, MiB. */
  totalRssMiB: number;
  /** Peak of the stack's total PSS at one sample, MiB. */
  totalPssMiB: number;
  samples: number;
  /**
   * The stack's peak total PSS and RSS during each phase, in the order the phases ran (the Go
   * original's memory was measured at 60 orders/s and at 128 in flight: these are the like-for-like
   * figures; the whole run's peak includes the overload phases).
   */
  phases?: PhasePeak[];
}

/** The stack's peak total memory during one phase of the bench. */
export interface PhasePeak {
  phase: string;
  pssMiB: number;
  rssMiB: number;
  samples: number;
}

/** One process group in one sample: its summed RSS and PSS (KiB) and how many processes. */
export interface SampleRow {
  name: string;
  kind: GroupPeak["kind"];
  rss: number;
  pss: number;
  n: number;
}

/** The name of the bench's own row in a sample. */
export const BENCH_GROUP = "bench (load generator)";

/**
 * Reads one sample of the given groups, and the bench's own process, from /proc (or `read`).
 *
 * @example
 * ```ts
 * readSample([{ name: "order", kind: "app", pids: [4242] }]);
 * // [{ name: "order", kind: "app", rss: 98304, pss: 61440, n: 1 }, { name: BENCH_GROUP, … }]
 * ```
 */
export function readSample(
  groups: readonly ProcessGroup[],
  read: (pid: number) => { rss: number; pss: number } = memoryKiB,
): SampleRow[] {
  const rows: SampleRow[] = groups.map((g) => {
    let rss = 0;
    let pss = 0;
    for (const pid of g.pids) {
      const m = read(pid);
      rss += m.rss;
      pss += m.pss;
    }
    return { name: g.name, kind: g.kind, rss, pss, n: g.pids.length };
  });
  rows.push({ name: BENCH_GROUP, kind: "bench", n: 1, ...read(Deno.pid) });
  return rows;
}

/** Folds one sample (group → [rss KiB, pss KiB, processes]) into running peaks. Pure. */
export function foldSample(
  peaks: Map<string, GroupPeak>,
  sample: ReadonlyArray<SampleRow>,
): { rssMiB: number; pssMiB: number } {
  let rss = 0;
  let pss = 0;
  for (const s of sample) {
    const p = peaks.get(s.name) ??
      { name: s.name, kind: s.kind, rssMiB: 0, pssMiB: 0, processes: 0 };
    p.rssMiB = Math.max(p.rssMiB, s.rss / 1024);
    p.pssMiB = Math.max(p.pssMiB, s.pss / 1024);
    p.processes = Math.max(p.processes, s.n);
    peaks.set(s.name, p);
    if (s.kind !== "bench" && s.kind !== "external") {
      rss += s.rss;
      pss += s.pss;
    }
  }
  return { rssMiB: rss / 1024, pssMiB: pss / 1024 };
}

/** CPU time (user + system) of a process in seconds, from /proc/<pid>/stat (0 when gone). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields 14 and 15 (utime, stime) are the 12th and 13th after the command; clock ticks.
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

/** Processes outside the measured stack and the bench (a second stack, a build…). */
export const OTHERS = "other processes on the machine";

/** The key of the whole machine's busy time in a {@linkcode cpuSnapshot}. */
export const MACHINE = "whole machine";

/** CPU seconds used so far per process group (the bench itself included). */
export async function cpuSnapshot(
  groups: () => Promise<ProcessGroup[]>,
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const g of await groups()) {
    let s = 0;
    for (const pid of g.pids) s += cpuSeconds(pid);
    out.set(g.name, s);
  }
  out.set(BENCH_GROUP, cpuSeconds(Deno.pid));
  out.set(MACHINE, machineBusySeconds());
  return out;
}

/**
 * Cores used per group between two snapshots over `seconds` (a group whose counter went down was
 * restarted or lost processes: its later value is used). Sorted by use, biggest first.
 */
export function cpuShare(
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
  seconds: number,
): Array<{ name: string; cores: number }> {
  const out: Array<{ name: string; cores: number }> = [];
  for (const [name, a] of after) {
    const b = before.get(name) ?? 0;
    const used = a >= b ? a - b : a;
    out.push({ name, cores: Math.round((used / Math.max(0.001, seconds)) * 100) / 100 });
  }
  const machine = out.find((x) => x.name === MACHINE);
  if (machine) {
    const ours = out.filter((x) => x.name !== MACHINE).reduce((a, x) => a + x.cores, 0);
    out.push({ name: OTHERS, cores: Math.max(0, Math.round((machine.cores - ours) * 100) / 100) });
  }
  return out.sort((x, y) => y.cores - x.cores);
}

/** Busy CPU seconds of the whole machine so far (all cores, from the first line of /proc/stat). */
export function machineBusySeconds(stat?: string): number {
  let text = stat;
  if (text === undefined) {
    try {
      text = Deno.readTextFileSync("/proc/stat");
    } catch {
      return 0;
    }
  }
  const f = (/^cpu\s+(.+)$/m.exec(text)?.[1] ?? "").trim().split(/\s+/).map(Number);
  if (f.length < 4) return 0;
  const total = f.slice(0, 8).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return (total - idle) / 100;
}

/**
 * The stack's peak memory: folds samples into per-group, whole-stack and per-phase peaks. It reads
 * nothing itself: bench/memory_thread.ts reads /proc on a worker thread and records each sample
 * here (a sample of the whole stack takes the kernel 90–230 ms, which on the load generator's
 * thread stalled it).
 */
export class RssSampler {
  #peaks = new Map<string, GroupPeak>();
  #total = { rssMiB: 0, pssMiB: 0 };
  #samples = 0;
  #phase: PhasePeak | undefined;
  #phases: PhasePeak[] = [];
  #listeners = new Set<(rows: readonly SampleRow[]) => void>();

  /**
   * Names the phase the next samples belong to, until the next is named (so a phase's peak
   * includes the drain after it). A phase named again (two runs at the same rate) keeps one peak.
   */
  phase(name: string): void {
    this.#phase = this.#phases.find((p) => p.phase === name);
    if (!this.#phase) {
      this.#phases.push(this.#phase = { phase: name, pssMiB: 0, rssMiB: 0, samples: 0 });
    }
  }

  /** Calls `fn` with every sample recorded from now on; returns what stops it. */
  onSample(fn: (rows: readonly SampleRow[]) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Folds in one sample, as belonging to the current phase (so a phase's drain is its own). */
  record(rows: readonly SampleRow[]): void {
    const t = foldSample(this.#peaks, rows);
    this.#total.rssMiB = Math.max(this.#total.rssMiB, t.rssMiB);
    this.#total.pssMiB = Math.max(this.#total.pssMiB, t.pssMiB);
    this.#samples++;
    const phase = this.#phase;
    if (phase) {
      phase.pssMiB = Math.max(phase.pssMiB, t.pssMiB);
      phase.rssMiB = Math.max(phase.rssMiB, t.rssMiB);
      phase.samples++;
    }
    for (const fn of this.#listeners) fn(rows);
  }

  /** The peaks so far. */
  report(): RssReport {
    const order = { infra: 0, app: 1, external: 2, bench: 3 } as const;
    const groups = [...this.#peaks.values()]
      .map((g) => ({ ...g, rssMiB: Math.round(g.rssMiB), pssMiB: Math.round(g.pssMiB) }))
      .sort((a, b) => order[a.kind] - order[b.kind] || a.name.localeCompare(b.name));
    return {
      groups,
      totalRssMiB: Math.round(this.#total.rssMiB),
      totalPssMiB: Math.round(this.#total.pssMiB),
      samples: this.#samples,
      phases: this.#phases.filter((p) => p.samples > 0).map((p) => ({
        ...p,
        pssMiB: Math.round(p.pssMiB),
        rssMiB: Math.round(p.rssMiB),
      })),
    };
  }
}
