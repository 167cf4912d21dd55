/**
 * Tools the project installs for itself into the git-ignored state folder, once, with progress:
 * Go programs (`go install pkg@version`, or `go build` of a module of ours, from the Go module
 * proxy) into `.stocklet/bin/`, and files of PyPI packages into `.stocklet/pypi/`.
 * Each is keyed by its version (or source hash), so a change installs afresh; a file lock keeps
 * two processes from installing the same thing at once. Go's module and build caches stay where
 * Go keeps them, so a fresh clone on the same machine rebuilds in seconds.
 * @module
 */
import { basename, join } from "node:path";
import { elapsed, type Progress, silent, withFileLock } from "../infra/process.ts";
import { STATE_DIR } from "./paths.ts";

/** Where installed programs go. */
export const BIN_DIR: string = join(STATE_DIR, "bin");

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/** Runs a command with a progress line every 10 s; throws with its output when it fails. */
async function runLogged(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; what: string; say: Progress },
): Promise<void> {
  const t0 = performance.now();
  const ticker = setInterval(
    () => opts.say(`${opts.what}: still working (${elapsed(t0)})`),
    10_000,
  );
  try {
    const out = await new Deno.Command(cmd, {
      args,
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
      env: opts.env ?? {},
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output().catch((e) => {
      throw new Error(`${opts.what}: cannot run ${cmd} (${e instanceof Error ? e.message : e})`);
    });
    if (!out.success) {
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      throw new Error(`${opts.what}: \`${cmd} ${args.join(" ")}\` failed:\n${text.trimEnd()}`);
    }
    opts.say(`${opts.what}: done (${elapsed(t0)})`);
  } finally {
    clearInterval(ticker);
  }
}

/** The environment of `go`: no toolchain download, modules from the proxy. */
function goEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { GOTOOLCHAIN: "local", GOFLAGS: "-mod=readonly", ...extra };
}

const pending = new Map<string, Promise<string>>();

/** Runs an install once per key in this process, and under a file lock across processes. */
function once(key: string, target: string, install: () => Promise<void>): Promise<string> {
  let p = pending.get(key);
  if (!p) {
    p = (async () => {
      if (await exists(target)) return target;
      await withFileLock(join(BIN_DIR, `.${key}.lock`), async () => {
        if (!(await exists(target))) await install();
      });
      return target;
    })();
    pending.set(key, p);
    p.catch(() => pending.delete(key));
  }
  return p;
}

/**
 * `go install <pkg>@<version>` into `.stocklet/bin/<name>-<version>`, unless it is there.
 *
 * @returns The program's path.
 * @example
 * ```ts
 * const kubeconform = await goInstall({
 *   pkg: "github.com/yannh/kubeconform/cmd/kubeconform",
 *   version: "v0.8.0",
 * });
 * ```
 */
export function goInstall(
  opts: { pkg: string; version: string; say?: Progress },
): Promise<string> {
  const name = opts.pkg.slice(opts.pkg.lastIndexOf("/") + 1);
  const target = goInstallTarget(opts);
  const say = opts.say ?? silent;
  return once(`${name}-${opts.version}`, target, async () => {
    const gobin = await Deno.makeTempDir({ dir: await mkBin(), prefix: ".go-install-" });
    try {
      say(`installing ${name} ${opts.version} with go install (once; about a minute cold)`);
      await runLogged("go", ["install", `${opts.pkg}@${opts.version}`], {
        env: goEnv({ GOBIN: gobin, GOFLAGS: "" }),
        what: `go install ${name}`,
        say,
      });
      await Deno.rename(join(gobin, name), target);
    } finally {
      await Deno.remove(gobin, { recursive: true }).catch(() => {});
    }
  });
}

/** Where {@linkcode goInstall} puts a program (whether or not it is there yet). */
export function goInstallTarget(opts: { pkg: string; version: string }): string {
  return join(BIN_DIR, `${opts.pkg.slice(opts.pkg.lastIndexOf("/") + 1)}-${opts.version}`);
}

/** A short hash of a module's sources (go.mod, go.sum and its .go files). */
async function sourceHash(dir: string): Promise<string> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && (e.name.endsWith(".go") || e.name === "go.mod" || e.name === "go.sum")) {
      names.push(e.name);
    }
  }
  const parts = await Promise.all(
    names.sort().map(async (n) => `${n}\n${await Deno.readTextFile(join(dir, n))}`),
  );
  return await textHash(parts.join("\0"));
}

/**
 * `go build` of a Go module of ours (its own go.mod, dependencies from the Go module proxy)
 * into `.stocklet/bin/<name>-<source hash>`, unless that build is there.
 *
 * @returns The program's path.
 */
export async function goBuild(
  opts: { dir: string; name: string; say?: Progress },
): Promise<string> {
  const target = await goBuildTarget(opts);
  const say = opts.say ?? silent;
  return await once(`${opts.name}-build`, target, async () => {
    await mkBin();
    say(`building ${opts.name} with go build (once per change; about a minute cold)`);
    const tmp = `${target}.tmp`;
    await runLogged("go", ["build", "-o", tmp, "."], {
      cwd: opts.dir,
      env: goEnv(),
      what: `go build ${opts.name}`,
      say,
    });
    await Deno.rename(tmp, target);
  });
}

/** Where {@linkcode goBuild} puts the build of a module's current sources (there or not yet). */
export async function goBuildTarget(opts: { dir: string; name: string }): Promise<string> {
  return join(BIN_DIR, `${opts.name}-${await sourceHash(opts.dir)}`);
}

/**
 * The path of an installed tool, without installing it: the tests find their tools this way
 * (`deno task test` installs them first, so that no test installs anything).
 *
 * @param what The tool, for the message.
 * @throws When it is not there, saying how to get it.
 */
export async function installed(path: string, what: string): Promise<string> {
  if (await exists(path)) return path;
  throw new Error(
    `${what} is not installed (${path}): run the tests through \`deno task test\`, which ` +
      "installs the tools they use first",
  );
}

async function mkBin(): Promise<string> {
  await Deno.mkdir(BIN_DIR, { recursive: true });
  return BIN_DIR;
}

/**
 * Files from a pinned PyPI package, for the data it ships: `pip download` of its wheel (pip's
 * cache makes a second clone's download instant), then only the members under the given
 * folders extracted into `.stocklet/pypi/<requirement>/`, unless they are there. Installing such
 * a package (kubernetes-validate: 17,000 files, 108 MB) would take up to a minute on a busy
 * machine for a few files of it.
 *
 * @param opts.members Folder prefixes inside the wheel, e.g. `kubernetes_validate/kubernetes-json-schema/v1.30.0-local-strict/`.
 * @returns The folder the members were extracted into (their paths kept).
 */
export async function pypiFiles(
  opts: { requirement: string; members: readonly string[]; say?: Progress },
): Promise<string> {
  const { out, marker } = await pypiFilesTarget(opts);
  const say = opts.say ?? silent;
  await once(`pypi-${basename(out)}`, marker, async () => {
    const tmp = await Deno.makeTempDir({ prefix: "stocklet-pypi-" });
    try {
      say(`fetching ${opts.requirement} with pip download (once)`);
      await runLogged("python3", [
        "-m",
        "pip",
        "download",
        "--quiet",
        "--disable-pip-version-check",
        "--no-deps",
        "--only-binary=:all:",
        "--dest",
        tmp,
        opts.requirement,
      ], { what: `pip download ${opts.requirement}`, say });
      const extract = [
        "import glob, sys, zipfile",
        "z = zipfile.ZipFile(glob.glob(sys.argv[1] + '/*.whl')[0])",
        "names = [n for n in z.namelist() if any(n.startswith(p) for p in sys.argv[3:])]",
        "z.extractall(sys.argv[2], names)",
        "print(len(names))",
      ].join("\n");
      await runLogged("python3", ["-c", extract, tmp, out, ...opts.members], {
        what: `extract ${opts.requirement}`,
        say,
      });
      await Deno.writeTextFile(marker, opts.members.join("\n") + "\n");
    } finally {
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    }
  });
  return out;
}

/**
 * Where {@linkcode pypiFiles} extracts a package's members (`out`), and the file that says they
 * are all there (`marker`).
 */
export async function pypiFilesTarget(
  opts: { requirement: string; members: readonly string[] },
): Promise<{ out: string; marker: string }> {
  const out = join(STATE_DIR, "pypi", opts.requirement.replaceAll(/[^\w.=-]/g, "_"));
  return { out, marker: join(out, `.members-${await textHash(opts.members.join("\n"))}`) };
}

async function textHash(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].slice(0, 6).map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}
