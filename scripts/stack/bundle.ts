/**
 * Builds the bundles the stack's application processes run from: one minified file per app
 * (`deno bundle --minify`), built when a stack starts. Its source map is written beside it
 * (`main.js.map`) but not linked from it: Deno reads a linked map when it loads the module and
 * keeps it, 3–4 MiB of memory per MB of map (measured: a bundle of kafkajs, grpc-js and
 * postgres.js, 80 MiB resident without its 2.9 MB map, 89 with it). A stack trace names the
 * bundle's line and column, which the map translates; `STOCKLET_BUNDLE=off` runs the sources.
 *
 * Why: a service started from its sources loads some 900 modules (its own, the kit, the generated
 * contracts, kafkajs, grpc-js, postgres.js…), and V8 keeps every module's source for as long as the
 * process lives (it compiles functions lazily, from the source, when they first run). Measured
 * with the order service started alone: 84 MiB resident from its sources, 77 from an unminified
 * bundle (one module instead of 900, and what nothing imports left out), 69 from a minified one.
 * Over the eight processes of the bench's stack, 64–74 MiB less PSS in every phase of two short
 * runs back to back (warm-up at 60 orders/s: 935 → 866 MiB; 128 in flight: 992 → 918).
 *
 * A bundle sits in the profile's state folder at its entry's relative path, and the files a
 * module reads relative to itself (the edge's OpenAPI document, the web front's static files) are
 * linked into the same tree, so that `new URL("../docs/openapi.json", import.meta.url)` finds them.
 * @module
 */
import { dirname, join, relative, resolve } from "node:path";
import { SERVICE_NAMES } from "@stocklet/shared/topology";
import { ROOT } from "../lib/paths.ts";
import type { InfraProfile } from "../infra/config.ts";
import {
  type AppName,
  baseOf,
  buildDirOf,
  bundleable,
  bundled,
  bundleOfEntry,
  entryOf,
  IMAGE_BUNDLE_DIR,
} from "./config.ts";

/** Files and folders a bundled module reads relative to its own URL (from the repository root). */
export const BUNDLE_RESOURCES: readonly string[] = ["docs/openapi.json", "web/static"];

/** Thrown when `deno bundle` fails for an app. */
export class BundleError extends Error {
  override name = "BundleError";
}

/**
 * Bundles every app of the list that runs from a bundle (one bundle per app, whatever its
 * replicas), two at a time; does nothing when `STOCKLET_BUNDLE=off`.
 *
 * @example
 * ```ts
 * await buildBundles("test", ["order", "order@1", "edge", "mail"], console.error);
 * // …/test-stack/build/services/order/main.js, …/build/edge/main.js (the mail catcher runs its source)
 * ```
 */
export async function buildBundles(
  profile: InfraProfile,
  apps: readonly AppName[],
  log: (line: string) => void = () => {},
): Promise<void> {
  if (!bundled()) return;
  const todo = [...new Set(apps.filter(bundleable).map(baseOf))];
  await bundleApps(todo, buildDirOf(profile), log);
}

/**
 * Bundles apps into a build folder, each at its entry's relative path, two at a time, and links
 * {@linkcode BUNDLE_RESOURCES} beside them. The app image runs this at build time:
 * `deno run -A scripts/stack/bundle.ts dist` bundles the services, the web front and the edge into
 * `dist/` (see `IMAGE_BUNDLE_DIR`).
 */
export async function bundleApps(
  apps: readonly AppName[],
  buildDir: string,
  log: (line: string) => void = () => {},
): Promise<void> {
  if (apps.length === 0) return;
  const t0 = performance.now();
  log(`bundling ${apps.join(", ")}…`);
  await linkResources(buildDir);
  const queue = [...apps];
  const worker = async () => {
    for (let app = queue.shift(); app !== undefined; app = queue.shift()) {
      const entry = relative(ROOT, entryOf(app));
      await bundleEntry(entry, bundleOfEntry(entry, buildDir));
    }
  };
  await Promise.all([worker(), worker()]);
  log(`bundled ${apps.length} apps in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

/** Bundles one entry module (relative to the repository) into one minified file. */
async function bundleEntry(entry: string, out: string): Promise<void> {
  await Deno.mkdir(dirname(out), { recursive: true });
  const { success, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform=deno",
      "--minify",
      "--sourcemap=external",
      "--output",
      out,
      entry,
    ],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!success) {
    const why = new TextDecoder().decode(stderr).trim().split("\n").slice(-20).join("\n");
    throw new BundleError(`could not bundle ${entry}:\n${why}`);
  }
}

/** Links each of {@linkcode BUNDLE_RESOURCES} into the build tree (replacing a stale link). */
async function linkResources(buildDir: string): Promise<void> {
  for (const path of BUNDLE_RESOURCES) {
    const link = join(buildDir, path);
    await Deno.mkdir(dirname(link), { recursive: true });
    await Deno.remove(link).catch(() => {});
    await Deno.symlink(join(ROOT, path), link);
  }
}

if (import.meta.main) {
  const dir = resolve(Deno.args[0] ?? IMAGE_BUNDLE_DIR);
  const apps: AppName[] = [...SERVICE_NAMES, "web", "edge"];
  await bundleApps(apps, dir, (line) => console.error(line));
}
