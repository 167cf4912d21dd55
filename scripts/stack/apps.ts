/**
 * Starting, probing and stopping the stack's application processes (the services, the edge and
 * the mail catcher; detached, with pid files and logs under the profile's state folder), shared
 * by the test stack and the chaos tool.
 * @module
 */
import { join } from "node:path";
import { ROOT } from "../lib/paths.ts";
import {
  isAlive,
  readPidFile,
  sleep,
  spawnDetached,
  stopProcess,
  tailFile,
  waitUntil,
} from "../infra/process.ts";
import type { InfraProfile } from "../infra/config.ts";
import { appArgs, type AppName, appStateDir, httpPortOf, type StackPorts } from "./config.ts";

/** The log file of an application process. */
export function appLogFile(profile: InfraProfile, app: AppName): string {
  return join(appStateDir(profile), "logs", `${app}.log`);
}

/** The pid file of an application process. */
export function appPidFile(profile: InfraProfile, app: AppName): string {
  return join(appStateDir(profile), "run", `${app}.pid`);
}

/** The running pid of an application process, if any. */
export function appPid(profile: InfraProfile, app: AppName): number | undefined {
  const pid = readPidFile(appPidFile(profile, app));
  return pid !== undefined && isAlive(pid) ? pid : undefined;
}

/** The URL that answers 200 once an application process is ready. */
export function readyUrl(app: AppName, ports: StackPorts): string {
  const probe = app === "edge" || app === "mail" ? "healthz" : "readyz";
  return `http://127.0.0.1:${httpPortOf(app, ports)}/${probe}`;
}

/** Whether an application process answers its readiness probe. */
export async function isReady(app: AppName, ports: StackPorts): Promise<boolean> {
  try {
    const res = await fetch(readyUrl(app, ports), { signal: AbortSignal.timeout(1500) });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** Starts one application process detached. */
export function startApp(
  profile: InfraProfile,
  app: AppName,
  env: Record<string, string>,
): Promise<number> {
  return spawnDetached({
    cmd: Deno.execPath(),
    args: appArgs(app, profile),
    env: { ...Deno.env.toObject(), ...env },
    cwd: ROOT,
    logFile: appLogFile(profile, app),
    pidFile: appPidFile(profile, app),
  });
}

/** Waits for an application process to be ready; throws with its log tail when it is not. */
export async function waitReady(
  profile: InfraProfile,
  app: AppName,
  ports: StackPorts,
  timeoutMs = 60_000,
): Promise<void> {
  const ok = await waitUntil(async () => {
    const pid = appPid(profile, app);
    if (pid === undefined) return true; // died: stop waiting, report below
    return await isReady(app, ports);
  }, { timeoutMs, intervalMs: 150 });
  if (ok && appPid(profile, app) !== undefined) return;
  const why = appPid(profile, app) === undefined ? "exited" : `not ready after ${timeoutMs} ms`;
  throw new Error(
    `${app} ${why}; the end of ${appLogFile(profile, app)}:\n${
      tailFile(appLogFile(profile, app), 30)
    }`,
  );
}

/** Stops an application process (SIGTERM, then SIGKILL); resolves once it is gone. */
export async function stopApp(
  profile: InfraProfile,
  app: AppName,
  signal: Deno.Signal = "SIGTERM",
): Promise<void> {
  const pid = readPidFile(appPidFile(profile, app));
  if (pid !== undefined) await stopProcess(pid, { signal, timeoutMs: 15_000 });
  await Deno.remove(appPidFile(profile, app)).catch(() => {});
  await sleep(0);
}
