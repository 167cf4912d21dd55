/**
 * The soak's memory series: the whole stack's PSS and each process group's, sampled at a fixed
 * rate, split into the settling minutes and the measured ones, with a least-squares slope for each.
 *
 * Why a settling period: the soak follows the overload and the reads, after which every Deno
 * process has just given its freed memory back (shared/native_heap.ts) and PostgreSQL's backends
 * have been idle; at the soak's rate the stack then grows back to its working size. In the three
 * full runs of 2026-12-01 and 02 that took about ten minutes: the slope over minutes 10–30 of
 * their 30-minute soaks was −5, −17 and −1 MiB/h, over minutes 5–30 +17 each time, over the whole
 * soak +41, +43 and +8. A leak keeps its slope after the settling; a working set does not.
 * @module
 */
import { slope } from "./report.ts";

/**
 * Minutes the soak runs at its rate before it measures (`--soak-settle`): ten, from the runs
 * above.
 */
export const SOAK_SETTLE_MINUTES = 10;

/** Time between the soak's samples (ms): one of the memory thread's every 10 s. */
export const SOAK_SAMPLE_MS = 10_000;

/** One stretch of the soak: its samples (minutes, MiB) and their slope. */
export interface SoakStretch {
  /** [minutes from the end of the settling, whole-stack PSS MiB]. */
  samples: Array<[number, number]>;
  /** Least-squares slope of the whole stack's PSS (MiB per hour). */
  slopeMiBPerHour: number;
}

/** What the soak reports (bench/report.ts `BenchResult.soak` without its rate and minutes). */
export interface SoakFigures extends SoakStretch {
  /** Each process group's PSS (MiB) at the first and the last measured sample. */
  groups: Record<string, [number, number]>;
  /** Each process group's least-squares slope over the measured minutes (MiB per hour). */
  groupSlopes: Record<string, number>;
  /** The settling minutes before (not in the verdict). */
  settling?: SoakStretch;
}

/**
 * Collects the soak's samples; a sample at a negative minute belongs to the settling.
 *
 * @example
 * ```ts
 * const series = new SoakSeries();
 * series.add(-1, { kafka: 180, order: 80 }); // settling
 * series.add(0, { kafka: 181, order: 82 });
 * series.add(30, { kafka: 181, order: 83 });
 * series.figures().groups.order; // [82, 83]
 * ```
 */
export class SoakSeries {
  #points: Array<{ minute: number; groups: Record<string, number> }> = [];

  /** Adds one sample: each group's PSS in MiB at `minute`. */
  add(minute: number, groups: Record<string, number>): void {
    this.#points.push({ minute, groups });
  }

  /** The measured stretch's figures, and the settling's when it was sampled. */
  figures(): SoakFigures {
    const settling = this.#points.filter((p) => p.minute < 0);
    const measured = this.#points.filter((p) => p.minute >= 0);
    const stretch = (points: typeof measured): SoakStretch => {
      const samples = points.map((p): [number, number] => [
        p.minute,
        Math.round(Object.values(p.groups).reduce((s, v) => s + v, 0)),
      ]);
      return { samples, slopeMiBPerHour: slope(samples.map(([m, v]) => [m / 60, v] as const)) };
    };
    const groups: Record<string, [number, number]> = {};
    const groupSlopes: Record<string, number> = {};
    const names = [...new Set(measured.flatMap((p) => Object.keys(p.groups)))];
    for (const name of names) {
      const own = measured.filter((p) => p.groups[name] !== undefined)
        .map((p) => [p.minute / 60, p.groups[name]!] as const);
      groups[name] = [Math.round(own[0]![1]), Math.round(own.at(-1)![1])];
      groupSlopes[name] = Math.round(slope(own) * 10) / 10;
    }
    return {
      ...stretch(measured),
      groups,
      groupSlopes,
      ...(settling.length ? { settling: stretch(settling) } : {}),
    };
  }
}
