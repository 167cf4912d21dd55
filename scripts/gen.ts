/**
 * `deno task gen`: regenerates everything derived from proto/ — the protobuf-es TypeScript in
 * shared/gen and the derived documents — so that one command reproduces them all.
 * `deno task gen --check` regenerates into a temporary folder and fails if anything committed differs.
 */
import { join, relative } from "node:path";
import { ROOT, STATE_DIR, TOOLS_BIN } from "./lib/paths.ts";
import { run } from "./lib/run.ts";
import { prepareProtoDeps } from "./gen/proto_deps.ts";
import { derivedArtifacts } from "./gen/derived.ts";
import { K8S_GENERATED_DIRS } from "./gen/k8s/mod.ts";

/** Folders (relative to the root) that gen owns entirely; --check compares them. */
const GENERATED_DIRS = ["shared/gen", ...K8S_GENERATED_DIRS];

async function listFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  async function walk(d: string): Promise<void> {
    let entries;
    try {
      entries = Deno.readDir(d);
      for await (const e of entries) {
        const p = join(d, e.name);
        if (e.isDirectory) await walk(p);
        else files.push(p);
      }
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
  await walk(dir);
  return files.sort();
}

/** Generates code and derived files under outRoot (the repository root by default). */
export async function generate(outRoot: string): Promise<string[]> {
  await Deno.mkdir(STATE_DIR, { recursive: true });
  await prepareProtoDeps();
  const env = {
    PATH: `${TOOLS_BIN}:${Deno.env.get("PATH") ?? ""}`,
    BUF_CACHE_DIR: join(STATE_DIR, "buf-cache"),
  };
  await run("buf", ["lint"], { cwd: ROOT, env });
  for (const d of GENERATED_DIRS) {
    await Deno.remove(join(outRoot, d), { recursive: true }).catch(() => {});
  }
  await run("buf", [
    "generate",
    "--path",
    "proto/stocklet",
    "--path",
    relative(ROOT, join(STATE_DIR, "proto-deps", "google")),
    "--path",
    relative(ROOT, join(STATE_DIR, "proto-deps", "grpc")),
    "-o",
    outRoot,
  ], { cwd: ROOT, env });
  const written = [...GENERATED_DIRS];
  for (const artifact of derivedArtifacts) {
    const text = await artifact.render();
    const path = join(outRoot, artifact.path);
    await Deno.mkdir(join(path, ".."), { recursive: true });
    await Deno.writeTextFile(path, text);
    if (!GENERATED_DIRS.some((d) => artifact.path.startsWith(`${d}/`))) written.push(artifact.path);
  }
  return written;
}

async function check(): Promise<boolean> {
  const tmp = await Deno.makeTempDir({ prefix: "stocklet-gen-" });
  try {
    const paths = await generate(tmp);
    const stale: string[] = [];
    for (const p of paths) {
      const fresh = await listFiles(join(tmp, p)).catch(() => [join(tmp, p)]);
      const ours = await listFiles(join(ROOT, p)).catch(() => [join(ROOT, p)]);
      const freshRel = (await Promise.all(fresh.map(async (f) => {
        const s = await Deno.stat(f).catch(() => null);
        return s?.isFile ? relative(tmp, f) : null;
      }))).filter((x): x is string => x !== null);
      const oursRel = new Set(ours.map((f) => relative(ROOT, f)));
      for (const rel of freshRel) {
        const a = await Deno.readTextFile(join(tmp, rel));
        const b = await Deno.readTextFile(join(ROOT, rel)).catch(() => null);
        if (a !== b) stale.push(rel);
        oursRel.delete(rel);
      }
      stale.push(...[...oursRel].map((r) => `${r} (should not exist)`));
    }
    if (stale.length) {
      console.error(`generated code is stale; run \`deno task gen\`:\n  ${stale.join("\n  ")}`);
      return false;
    }
    console.error("gen: generated code is up to date");
    return true;
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

/** Runs buf lint over proto/ (after fetching the third-party protos it imports). */
async function lint(): Promise<void> {
  await Deno.mkdir(STATE_DIR, { recursive: true });
  await prepareProtoDeps();
  await run(join(TOOLS_BIN, "buf"), ["lint"], {
    cwd: ROOT,
    env: { BUF_CACHE_DIR: join(STATE_DIR, "buf-cache") },
  });
}

if (import.meta.main) {
  if (Deno.args.includes("--lint")) {
    await lint();
    Deno.exit(0);
  }
  if (Deno.args.includes("--check")) {
    Deno.exit((await check()) ? 0 : 1);
  }
  const written = await generate(ROOT);
  console.error(`gen: wrote ${written.join(", ")}`);
}
