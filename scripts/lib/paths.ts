/** Well-known locations in the repository. */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const ROOT: string = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** Git-ignored runtime state: databases, logs, jars, caches, test results. */
export const STATE_DIR: string = Deno.env.get("STOCKLET_STATE_DIR") ?? join(ROOT, ".stocklet");
/** The pinned toolchain installed by ./deno. */
export const TOOLS_BIN: string = join(ROOT, "tools", "node_modules", ".bin");
