/**
 * CPU per order: the CPU time each process of the stack spends while the bench places orders at a
 * fixed rate, divided by the orders completed. PostgreSQL's backends are told apart by their
 * process titles (the service whose role they serve, the relay's walsender, background work), so
 * a change in the relay layout or in a service's transactions shows where it lands.
 * @module
 */
import { cpuSeconds } from "./rss.ts";
import type { ProcessGroup } from "./processes.ts";

/** Whom a PostgreSQL process works for, from its title (`postgres: stocklet_order stocklet …`). */
export function pgRoleOf(title: string): string {
  const t = title.replace(/^postgres:\s*/, "");
  if (t.startsWith("walsender")) return "postgres: relay walsender";
  const m = /^stocklet_([a-z]+)\s/.exec(t);
  if (m) return `postgres: ${m[1]}`;
  if (/^stocklet\s/.test(t)) return "postgres: admin (bench poller, tools)";
  return "postgres: background";
}

function titleOf(pid: number): string {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).replaceAll("\0", " ").trim();
  } catch {
    return "";
  }
}

/** CPU seconds used so far per process (PostgreSQL split by role), by label. */
export async function cpuByProcess(
  groups: () => Promise<ProcessGroup[]>,
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const g of await groups()) {
    if (g.kind === "external") continue; // not the stack's
    for (const pid of g.pids) {
      const label = g.name === "postgres" ? pgRoleOf(titleOf(pid)) : g.name;
      out.set(label, (out.get(label) ?? 0) + cpuSeconds(pid));
    }
  }
  return out;
}

/** One process's share of a fixed-rate run. */
export interface CpuRow {
  name: string;
  cores: number;
  /** CPU milliseconds per completed order. */
  msPerOrder: number;
}

/** Cores and ms per order per process between two snapshots, biggest first, with a total. */
export function cpuPerOrder(
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
  seconds: number,
  orders: number,
): { rows: CpuRow[]; total: CpuRow } {
  const rows: CpuRow[] = [];
  for (const [name, a] of after) {
    const b = before.get(name) ?? 0;
    const used = a >= b ? a - b : a; // restarted: its new counter
    rows.push({
      name,
      cores: used / seconds,
      msPerOrder: orders > 0 ? (used * 1000) / orders : NaN,
    });
  }
  rows.sort((x, y) => y.cores - x.cores);
  const sum = rows.reduce((s, r) => s + r.cores, 0);
  return {
    rows,
    total: {
      name: "whole stack",
      cores: sum,
      msPerOrder: orders > 0 ? (sum * seconds * 1000) / orders : NaN,
    },
  };
}
