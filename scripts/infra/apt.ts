/**
 * Installing Debian packages the infrastructure needs (PostgreSQL, a JDK, Maven) when they are
 * missing: only as root, otherwise a clear error naming the package.
 * @module
 */
import { elapsed, InfraError, type Progress, silent, tailFile } from "./process.ts";

/** Whether this process runs as root. */
export function isRoot(): boolean {
  return Deno.uid() === 0;
}

/**
 * Runs `apt-get install -y <packages>` (after one `apt-get update` if the first try fails), with
 * its output in `logFile` and a progress line every few seconds.
 *
 * @param why What the packages are for, for the messages.
 */
export function aptInstall(
  packages: string[],
  why: string,
  logFile: string,
  onProgress: Progress = silent,
): Promise<void> {
  // One apt at a time in this process (infra up installs PostgreSQL and Java side by side);
  // other processes are waited for through dpkg's lock timeout.
  const next = queue.then(() => install(packages, why, logFile, onProgress));
  queue = next.catch(() => {});
  return next;
}

let queue: Promise<void> = Promise.resolve();

async function install(
  packages: string[],
  why: string,
  logFile: string,
  onProgress: Progress,
): Promise<void> {
  if (!isRoot()) {
    throw new InfraError(
      `${why} needs the Debian package(s) ${packages.join(" ")}: ` +
        `run \`sudo apt-get install -y ${packages.join(" ")}\` and retry`,
    );
  }
  const t0 = performance.now();
  onProgress(`apt: installing ${packages.join(" ")} for ${why}`);
  const ticker = setInterval(() => onProgress(`apt: still installing (${elapsed(t0)})`), 5000);
  try {
    let code = await aptGet(["install", "-y", "--no-install-recommends", ...packages], logFile);
    if (code !== 0) {
      onProgress("apt: install failed, refreshing the package lists (apt-get update)");
      await aptGet(["update"], logFile);
      code = await aptGet(["install", "-y", "--no-install-recommends", ...packages], logFile);
    }
    if (code !== 0) {
      throw new InfraError(
        `apt-get install ${packages.join(" ")} failed; the end of ${logFile}:\n${
          tailFile(logFile, 40)
        }`,
      );
    }
  } finally {
    clearInterval(ticker);
  }
  onProgress(`apt: installed ${packages.join(" ")} in ${elapsed(t0)}`);
}

async function aptGet(args: string[], logFile: string): Promise<number> {
  const out = await new Deno.Command("apt-get", {
    args: ["-o", "DPkg::Lock::Timeout=300", ...args],
    env: { DEBIAN_FRONTEND: "noninteractive" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  await Deno.writeTextFile(
    logFile,
    `$ apt-get ${args.join(" ")}\n${dec.decode(out.stdout)}${dec.decode(out.stderr)}\n`,
    { append: true },
  );
  return out.code;
}
