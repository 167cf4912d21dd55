/**
 * A throwaway PostgreSQL server of its own (initdb in a temporary folder, started on a free port,
 * wiped afterwards), for a test that must change what is server-wide — WAL retention, segment
 * size — without touching the test stack's server, whose relay every other test relies on.
 * About a second to start. PostgreSQL must be installed (the test stack's server is).
 *
 * @example
 * ```ts
 * const pg = await startScratchPostgres({ walSegmentMb: 1, settings: { wal_level: "logical" } });
 * try {
 *   const sql = postgres(pg.url("postgres"));
 * } finally {
 *   await pg.stop();
 * }
 * ```
 * @module
 */
import { join } from "node:path";
import { findPgBinDir, pgRun, postgresOsUser } from "@stocklet/scripts/infra/postgres";

/** A running throwaway server. */
export interface ScratchPostgres {
  /** Its port on 127.0.0.1. */
  port: number;
  /** A URL of one of its databases, as the superuser `postgres` (any password: trust). */
  url(database: string): string;
  /** Stops it at once and removes its files. */
  stop(): Promise<void>;
}

/** Options of {@linkcode startScratchPostgres}. */
export interface ScratchPostgresOptions {
  /** WAL segment size in MB (initdb's `--wal-segsize`, a power of 2). @default 16 */
  walSegmentMb?: number;
  /** Server settings (`-c name=value`). */
  settings?: Record<string, string>;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Initialises and starts a throwaway server. */
export async function startScratchPostgres(
  opts: ScratchPostgresOptions = {},
): Promise<ScratchPostgres> {
  const bin = await findPgBinDir();
  if (!bin) throw new Error("PostgreSQL is not installed (the test stack installs it)");
  const owner = await postgresOsUser();
  const root = await Deno.makeTempDir({ prefix: "stocklet-scratch-pg-" });
  const data = join(root, "data");
  const run = async (program: string, args: string[]) => {
    const r = await pgRun(owner, root, join(bin, program), args);
    if (r.code !== 0) throw new Error(`${program} failed: ${r.output}`);
  };
  const port = freePort();
  let started = false;
  try {
    if (owner) await Deno.chown(root, owner.uid, owner.gid);
    await run("initdb", [
      "-D",
      data,
      "-U",
      "postgres",
      "--auth=trust",
      "-E",
      "UTF8",
      "--locale=C.UTF-8",
      "--no-instructions",
      `--wal-segsize=${opts.walSegmentMb ?? 16}`,
    ]);
    const settings: Record<string, string> = {
      listen_addresses: "127.0.0.1",
      port: String(port),
      unix_socket_directories: root,
      shared_buffers: "16MB",
      max_connections: "30",
      fsync: "off",
      ...opts.settings,
    };
    const flags = Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`).join(" ");
    await run("pg_ctl", ["-D", data, "-l", join(root, "log"), "-o", flags, "-w", "-s", "start"]);
    started = true;
  } catch (e) {
    await Deno.remove(root, { recursive: true }).catch(() => {});
    throw e;
  }
  return {
    port,
    url: (database) => `postgres://postgres:scratch@127.0.0.1:${port}/${database}`,
    stop: async () => {
      if (started) await run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "-s", "stop"]);
      await Deno.remove(root, { recursive: true });
    },
  };
}
