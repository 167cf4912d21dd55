/**
 * The test stack's collector process (scripts/collector.ts), started detached beside the services
 * with a pid file and a log under the profile's state folder, like them.
 * @module
 */
import { join } from "node:path";
import type { InfraProfile } from "../infra/config.ts";
import {
  isAlive,
  readPidFile,
  spawnDetached,
  stopProcess,
  tailFile,
  waitUntil,
} from "../infra/process.ts";
import { ROOT } from "../lib/paths.ts";
import { appStateDir, collectorPort } from "./config.ts";

const pidFile = (profile: InfraProfile) => join(appStateDir(profile), "run", "collector.pid");
/** The collector's log file. */
export const collectorLog = (profile: InfraProfile): string =>
  join(appStateDir(profile), "logs", "collector.log");

/** Whether the profile's collector answers. */
export async function collectorUp(profile: InfraProfile): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${collectorPort(profile)}/api/metrics?names=_`, {
      signal: AbortSignal.timeout(1000),
    });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

/** Starts the profile's collector unless it runs; waits until it answers. */
export async function ensureCollector(profile: InfraProfile, zipkinUrl?: string): Promise<void> {
  const pid = readPidFile(pidFile(profile));
  if (pid !== undefined && isAlive(pid) && await collectorUp(profile)) return;
  await spawnDetached({
    cmd: Deno.execPath(),
    args: [
      "run",
      "-A",
      "--no-prompt",
      join(ROOT, "scripts", "collector.ts"),
      `--profile=${profile}`,
      ...(zipkinUrl ? [`--zipkin=${zipkinUrl}`] : []),
    ],
    env: Deno.env.toObject(),
    cwd: ROOT,
    logFile: collectorLog(profile),
    pidFile: pidFile(profile),
  });
  const ok = await waitUntil(() => collectorUp(profile), { timeoutMs: 30_000, intervalMs: 100 });
  if (!ok) {
    throw new Error(
      `the collector did not answer; the end of its log:\n${tailFile(collectorLog(profile), 20)}`,
    );
  }
}

/** Stops the profile's collector if it runs. */
export async function stopCollector(profile: InfraProfile): Promise<void> {
  const pid = readPidFile(pidFile(profile));
  if (pid !== undefined) await stopProcess(pid, { timeoutMs: 5000 });
  await Deno.remove(pidFile(profile)).catch(() => {});
}
