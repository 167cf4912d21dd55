/**
 * The stack's processes, found from their pid files and /proc: one group per app, one per
 * infrastructure component (PostgreSQL with its backends), and the trace store's backends apart.
 * Kept apart from the rest of the bench's target so the memory sampler's worker thread
 * (bench/memory_thread.ts) can load it without the API clients.
 * @module
 */
import { componentPid, COMPONENTS, type InfraConfig } from "@stocklet/scripts/infra";
import { childrenOf } from "@stocklet/scripts/infra/process";
import { appPid } from "@stocklet/scripts/stack/apps";
import { stackApps } from "@stocklet/scripts/stack";

/** Which stack. */
export type StackKind = "dev" | "test";

/**
 * A process group to measure: one app, or an infrastructure component with its children.
 * `external` groups are shown but not counted as the stack's: what stands in for a service
 * outside it (the local trace collector's PostgreSQL backends, where Jaeger or Tempo would be).
 */
export interface ProcessGroup {
  name: string;
  kind: "app" | "infra" | "external";
  pids: number[];
}

/** The group of PostgreSQL backends that serve the local trace collector (database `traces`). */
export const TRACE_STORE = "trace store (the collector's PostgreSQL backends)";

/** Whether a PostgreSQL process title (`postgres: <user> <database> …`) serves the trace store. */
export function servesTraceStore(title: string): boolean {
  return /^postgres:\s+\S+\s+traces\s/.test(title);
}

function titleOf(pid: number): string {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).replaceAll("\0", " ").trim();
  } catch {
    return "";
  }
}

/** The stack's process groups right now (pids re-read from the pid files). */
export async function processesOf(kind: StackKind, cfg: InfraConfig): Promise<ProcessGroup[]> {
  const out: ProcessGroup[] = [];
  for (const c of COMPONENTS) {
    const pid = componentPid(cfg, c);
    if (pid === undefined) continue;
    if (c !== "postgres") {
      out.push({ name: c, kind: "infra", pids: [pid] });
      continue;
    }
    const children = childrenOf(pid);
    const traces = children.filter((p) => servesTraceStore(titleOf(p)));
    out.push({
      name: c,
      kind: "infra",
      pids: [pid, ...children.filter((p) => !traces.includes(p))],
    });
    if (traces.length) out.push({ name: TRACE_STORE, kind: "external", pids: traces });
  }
  for (const app of await stackApps()) {
    // The mail catcher stands in for an SMTP server outside the stack: not measured.
    if (app === "mail") continue;
    const pid = appPid(kind, app);
    if (pid !== undefined) out.push({ name: app, kind: "app", pids: [pid] });
  }
  return out;
}
