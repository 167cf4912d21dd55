/**
 * `deno task check`: the quality gate — formatting, lint, type check of every member, buf lint and
 * generated-code freshness. The same checks run as tests in scripts/gate_test.ts, so CI counts them.
 */
import { join } from "node:path";
import { ROOT, STATE_DIR } from "./lib/paths.ts";
import { run, type RunResult } from "./lib/run.ts";

/** One check of the gate. */
export interface GateCheck {
  name: string;
  cmd: string;
  args: string[];
}

const deno = Deno.execPath();

/** The gate, in the order it runs. */
export const GATE: GateCheck[] = [
  { name: "deno fmt --check", cmd: deno, args: ["fmt", "--check"] },
  { name: "deno lint", cmd: deno, args: ["lint"] },
  { name: "deno check (every member, scripts)", cmd: deno, args: ["check", "."] },
  { name: "buf lint", cmd: deno, args: ["run", "-A", "scripts/gen.ts", "--lint"] },
  { name: "generated code is fresh", cmd: deno, args: ["run", "-A", "scripts/gen.ts", "--check"] },
];

/** Runs one check, capturing its output. */
export function runCheck(check: GateCheck): Promise<RunResult> {
  return run(check.cmd, check.args, {
    cwd: ROOT,
    capture: true,
    check: false,
    env: { BUF_CACHE_DIR: join(STATE_DIR, "buf-cache"), NO_COLOR: "1" },
  });
}

if (import.meta.main) {
  let failed = 0;
  for (const check of GATE) {
    const t0 = performance.now();
    const r = await runCheck(check);
    const ms = Math.round(performance.now() - t0);
    if (r.code === 0) {
      console.error(`ok    ${check.name} (${ms} ms)`);
    } else {
      failed++;
      console.error(`FAIL  ${check.name} (${ms} ms)\n${(r.stdout + r.stderr).trimEnd()}\n`);
    }
  }
  Deno.exit(failed ? 1 : 0);
}
