/**
 * What the Kubernetes init entries (deploy/k8s/service_init.ts, relay_init.ts,
 * wait_for_schema.ts) share: running one as a program, and waiting for a condition while saying
 * what is still missing.
 * @module
 */
import { ConfigError } from "@stocklet/shared/config";
import { InfraError } from "@stocklet/scripts/infra/process";
import { MigrationError } from "@stocklet/scripts/service_init/migrations";

/** A line on stderr, prefixed with the entry's name (the pod's log). */
export function sayer(name: string): (line: string) => void {
  return (line) => console.error(`${name}: ${line}`);
}

/**
 * Runs an entry's main and exits: 0 when it returns, 1 with one line for a problem a human must
 * fix (configuration, a dirty migration, infrastructure), a stack trace for anything else. The
 * Job restarts it with back-off either way.
 */
export async function runInit(name: string, main: () => Promise<void>): Promise<never> {
  try {
    await main();
    Deno.exit(0);
  } catch (e) {
    if (e instanceof ConfigError || e instanceof MigrationError || e instanceof InfraError) {
      sayer(name)(e.message);
      Deno.exit(1);
    }
    throw e;
  }
}

/**
 * Polls until `check` answers `true`; meanwhile, every 10 s, says what it answered instead (a
 * string naming what is missing, or the error it threw: the database may not be up yet).
 */
export async function waitUntil(
  say: (line: string) => void,
  check: () => Promise<true | string>,
  opts: { intervalMs?: number; reportMs?: number } = {},
): Promise<void> {
  const t0 = performance.now();
  let reported = -Infinity;
  for (;;) {
    const answer = await check().catch((e) => e instanceof Error ? e.message : String(e));
    if (answer === true) return;
    if (performance.now() - reported >= (opts.reportMs ?? 10_000)) {
      reported = performance.now();
      say(`${answer} (after ${Math.round((performance.now() - t0) / 1000)} s)`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 2_000));
  }
}
