/**
 * The browser the web tests and Lighthouse drive: Debian's Chromium at `/usr/bin/chromium`,
 * installed with apt when missing (never a browser download from a CDN: `playwright install`
 * cannot work without the internet). Prints progress while apt runs.
 * @module
 */
import { join } from "node:path";
import { aptInstall } from "../infra/apt.ts";
import type { Progress } from "../infra/process.ts";
import { STATE_DIR } from "../lib/paths.ts";

/** Where Debian installs Chromium (`STOCKLET_CHROMIUM` overrides it). */
export const CHROMIUM_PATH: string = Deno.env.get("STOCKLET_CHROMIUM") ?? "/usr/bin/chromium";

/**
 * Flags for a headless Chromium on a shared, offline machine: no sandbox as root (Chromium refuses
 * to start otherwise), no GPU, and none of the background calls to Google's hosts it cannot reach.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  ...(Deno.uid() === 0 ? ["--no-sandbox"] : []),
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--no-default-browser-check",
];

async function exists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

let ensured: Promise<string> | undefined;

/**
 * The path of a Chromium that runs, installing Debian's `chromium` with apt first if it is missing
 * (as root; otherwise an error saying what to install).
 *
 * @example
 * ```ts
 * const browser = await chromium.launch({ executablePath: await ensureChromium(), args: [...CHROMIUM_ARGS] });
 * ```
 */
export function ensureChromium(onProgress: Progress = (l) => console.error(l)): Promise<string> {
  return ensured ??= (async () => {
    if (!(await exists(CHROMIUM_PATH))) {
      await Deno.mkdir(STATE_DIR, { recursive: true });
      await aptInstall(
        ["chromium"],
        "the browser tests",
        join(STATE_DIR, "apt-chromium.log"),
        onProgress,
      );
    }
    if (!(await exists(CHROMIUM_PATH))) {
      throw new Error(`${CHROMIUM_PATH} is still missing after installing chromium`);
    }
    return CHROMIUM_PATH;
  })();
}

if (import.meta.main) console.log(await ensureChromium());
