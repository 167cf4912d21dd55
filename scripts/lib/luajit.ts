/**
 * LuaJIT, the Lua Envoy runs its Lua filters with, for edge/envoy_lua_test.ts: the Debian package,
 * installed by `deno task test` when missing (as root, with progress shown).
 * @module
 */
import { join } from "node:path";
import { aptInstall, isRoot } from "../infra/apt.ts";
import { STATE_DIR } from "./paths.ts";

/** The command. */
export const LUAJIT = "luajit";

async function works(): Promise<boolean> {
  try {
    return (await new Deno.Command(LUAJIT, { args: ["-v"], stdout: "null", stderr: "null" })
      .output()).success;
  } catch {
    return false; // not installed
  }
}

/** Makes sure `luajit` runs; installs the Debian package when it does not and this is root. */
export async function ensureLuajit(log: (line: string) => void): Promise<void> {
  if (await works()) return;
  if (!isRoot()) throw new Error("luajit is missing: apt-get install luajit");
  await Deno.mkdir(STATE_DIR, { recursive: true });
  await aptInstall([LUAJIT], "the Envoy Lua filter test", join(STATE_DIR, "apt-luajit.log"), log);
  if (!(await works())) throw new Error("luajit did not install");
}
