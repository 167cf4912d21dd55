/**
 * Schemathesis (PyPI), the API fuzzer the test suite runs against the edge, in a virtualenv of
 * its own under the git-ignored state folder. Installed on first use, idempotently, with progress
 * shown; a later call only checks the installed version.
 *
 * @example
 * ```ts
 * const st = await ensureSchemathesis((line) => console.error(line));
 * await new Deno.Command(st, { args: ["--version"] }).output();
 * ```
 * @module
 */
import { join } from "node:path";
import { aptInstall, isRoot } from "../infra/apt.ts";
import { STATE_DIR } from "./paths.ts";
import { run } from "./run.ts";

/** The pinned version (4.x). */
export const SCHEMATHESIS_VERSION = "4.32.5";

/** Where the virtualenv lives. */
export const SCHEMATHESIS_VENV: string = join(STATE_DIR, "venv", "schemathesis");

/** The `st` command of the virtualenv. */
export const SCHEMATHESIS_BIN: string = join(SCHEMATHESIS_VENV, "bin", "st");

async function installedVersion(): Promise<string | undefined> {
  try {
    const out = await run(SCHEMATHESIS_BIN, ["--version"], { capture: true, check: false });
    return /version ([0-9][^\s]*)/.exec(out.stdout + out.stderr)?.[1];
  } catch {
    return undefined; // not there
  }
}

async function makeVenv(log: (line: string) => void): Promise<void> {
  const python = Deno.env.get("STOCKLET_PYTHON") ?? "python3";
  const attempt = () =>
    run(python, ["-m", "venv", "--clear", SCHEMATHESIS_VENV], { capture: true, check: false });
  let made = await attempt().catch((e) => ({ code: 1, stdout: "", stderr: String(e) }));
  if (made.code !== 0 && isRoot()) {
    // Debian ships venv (and its pip) separately from python3.
    log("schemathesis: python3 -m venv failed; installing python3-venv with apt");
    await aptInstall(
      ["python3", "python3-venv"],
      "the schemathesis virtualenv",
      join(STATE_DIR, "venv", "apt.log"),
      log,
    );
    made = await attempt();
  }
  if (made.code !== 0) {
    throw new Error(
      `could not create ${SCHEMATHESIS_VENV} with ${python} -m venv (install python3-venv):\n${
        made.stdout + made.stderr
      }`,
    );
  }
}

/**
 * Makes sure `schemathesis==SCHEMATHESIS_VERSION` is installed in its virtualenv.
 *
 * @param log Progress lines.
 * @returns The path of its `st` command.
 */
export async function ensureSchemathesis(
  log: (line: string) => void = (l) => console.error(l),
): Promise<string> {
  if (await installedVersion() === SCHEMATHESIS_VERSION) return SCHEMATHESIS_BIN;
  const t0 = performance.now();
  log(`schemathesis: installing ${SCHEMATHESIS_VERSION} from PyPI into ${SCHEMATHESIS_VENV}…`);
  await Deno.mkdir(join(STATE_DIR, "venv"), { recursive: true });
  await makeVenv(log);
  const ticker = setInterval(
    () => log(`schemathesis: still installing (${Math.round((performance.now() - t0) / 1000)} s)`),
    10_000,
  );
  try {
    await run(join(SCHEMATHESIS_VENV, "bin", "pip"), [
      "install",
      "--quiet",
      "--disable-pip-version-check",
      `schemathesis==${SCHEMATHESIS_VERSION}`,
    ]);
  } finally {
    clearInterval(ticker);
  }
  const version = await installedVersion();
  if (version !== SCHEMATHESIS_VERSION) {
    throw new Error(`schemathesis ${SCHEMATHESIS_VERSION} did not install (found ${version})`);
  }
  log(`schemathesis: ${version} ready in ${Math.round((performance.now() - t0) / 1000)} s`);
  return SCHEMATHESIS_BIN;
}
