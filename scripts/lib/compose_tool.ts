/**
 * The docker compose CLI the compose tests validate `deploy/docker/` with: Docker's compose plugin
 * when it works, else the Debian package `docker-compose`, which `deno task test` installs (as
 * root, with apt) before the tests run, so that no test installs anything itself.
 * @module
 */
import { join } from "node:path";
import { aptInstall, isRoot } from "../infra/apt.ts";
import type { Progress } from "../infra/process.ts";
import { STATE_DIR } from "./paths.ts";

import { commandWorks as succeeds } from "./apt_tool.ts";

/** The compose command (`["docker", "compose"]` or `["docker-compose"]`), or undefined. */
export async function findComposeTool(): Promise<string[] | undefined> {
  if (await succeeds("docker", ["compose", "version"])) return ["docker", "compose"];
  if (await succeeds("docker-compose", ["version"])) return ["docker-compose"];
  return undefined;
}

/**
 * The compose command, installing the Debian package `docker-compose` first when neither is there
 * and this process runs as root. Undefined when it cannot be had (the compose tests then fail and
 * say what to install).
 */
export async function ensureComposeTool(onProgress: Progress): Promise<string[] | undefined> {
  const found = await findComposeTool();
  if (found || !isRoot()) return found;
  await Deno.mkdir(STATE_DIR, { recursive: true });
  await aptInstall(["docker-compose"], "the compose tests", join(STATE_DIR, "apt.log"), onProgress)
    .catch((e) =>
      onProgress(`could not install docker-compose: ${e instanceof Error ? e.message : e}`)
    );
  return await findComposeTool();
}
