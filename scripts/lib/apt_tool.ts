/**
 * Command-line tools some tests drive (tmux for the terminal dashboard's picture), installed from
 * Debian's packages by `deno task test` before the tests run when missing, so no test installs
 * anything itself.
 * @module
 */
import { join } from "node:path";
import { aptInstall, isRoot } from "../infra/apt.ts";
import type { Progress } from "../infra/process.ts";
import { STATE_DIR } from "./paths.ts";

/** Whether a command runs (`cmd args…` exits 0). */
export async function commandWorks(cmd: string, args: string[]): Promise<boolean> {
  try {
    return (await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output()).success;
  } catch {
    return false; // not installed
  }
}

/**
 * Makes sure `cmd` runs (probed with `probe` arguments), installing the Debian package `pkg` as
 * root when it does not. Resolves whether it runs afterwards.
 */
export async function ensureAptTool(
  cmd: string,
  probe: string[],
  pkg: string,
  why: string,
  onProgress: Progress,
): Promise<boolean> {
  if (await commandWorks(cmd, probe)) return true;
  if (!isRoot()) return false;
  await Deno.mkdir(STATE_DIR, { recursive: true });
  await aptInstall([pkg], why, join(STATE_DIR, "apt.log"), onProgress).catch((e) =>
    onProgress(`could not install ${pkg}: ${e instanceof Error ? e.message : e}`)
  );
  return await commandWorks(cmd, probe);
}
