/**
 * The project's own PostgreSQL 15 cluster in `<state>/postgres`: installed from Debian packages
 * when missing (as root), initialised once (as the `postgres` OS user when we are root: initdb
 * refuses root), started with `pg_ctl` (service-init gives each service its database, role and schema).
 *
 * Settings (`<data>/stocklet.conf`, rewritten before each start): listen on 127.0.0.1 only,
 * `wal_level=logical` for Debezium, 20 replication slots and WAL senders, `shared_buffers=32MB`,
 * 200 connections, `max_slot_wal_keep_size=1GB` (a forgotten slot cannot fill the disk).
 * `synchronous_commit` stays `on`: with `off`, a commit reaches the WAL on disk (and so logical
 * decoding, and Kafka) only at the next WAL writer flush, which adds up to 200 ms to every event.
 * fsync stays on too. Local socket connections are trusted; TCP needs the password (scram).
 * @module
 */
import { join } from "node:path";
import postgres from "postgres";
import { run } from "../lib/run.ts";
import { aptInstall, isRoot } from "./apt.ts";
import {
  type InfraConfig,
  layoutOf,
  logFileOf,
  PG_PASSWORD,
  PG_USER,
  pidFileOf,
} from "./config.ts";
import { healthError, portTakenError } from "./errors.ts";
import {
  cmdlineOf,
  elapsed,
  InfraError,
  isAlive,
  portOpen,
  type Progress,
  readPidFile,
  rotateLog,
  silent,
  sleep,
  tailFile,
  waitUntil,
} from "./process.ts";

/** The PostgreSQL server programs' folder (`initdb`, `pg_ctl`, `postgres`). */
export async function findPgBinDir(): Promise<string | undefined> {
  const fromConfig = await run("pg_config", ["--bindir"], { capture: true, check: false })
    .then((r) => (r.code === 0 ? r.stdout.trim() : ""))
    .catch(() => "");
  if (fromConfig && exists(join(fromConfig, "initdb"))) return fromConfig;
  let best: { v: number; dir: string } | undefined;
  try {
    for (const e of Deno.readDirSync("/usr/lib/postgresql")) {
      const dir = join("/usr/lib/postgresql", e.name, "bin");
      const v = Number(e.name);
      if (exists(join(dir, "initdb")) && (!best || v > best.v)) best = { v, dir };
    }
  } catch { /* no Debian PostgreSQL */ }
  return best?.dir;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The server programs' folder, installing Debian's `postgresql` first when they are missing
 * (as root; without creating Debian's default cluster on port 5432).
 */
export async function ensurePgInstalled(
  cfg: InfraConfig,
  onProgress: Progress = silent,
): Promise<string> {
  const found = await findPgBinDir();
  if (found) return found;
  await Deno.mkdir(layoutOf(cfg).logs, { recursive: true });
  const aptLog = logFileOf(cfg, "apt");
  await aptInstall(["postgresql-common"], "PostgreSQL", aptLog, onProgress);
  // Like the official Docker image: no "main" cluster on 5432, we make our own.
  const conf = "/etc/postgresql-common/createcluster.conf";
  try {
    const text = await Deno.readTextFile(conf);
    if (!/^create_main_cluster\s*=\s*false/m.test(text)) {
      await Deno.writeTextFile(
        conf,
        text.replace(/^#?\s*create_main_cluster\s*=.*$/m, "create_main_cluster = false"),
      );
    }
  } catch { /* not fatal: Debian then makes an unused cluster */ }
  await aptInstall(["postgresql"], "PostgreSQL", aptLog, onProgress);
  const dir = await findPgBinDir();
  if (!dir) throw new InfraError("apt installed postgresql but initdb is still not found");
  return dir;
}

/** The OS user PostgreSQL runs as when we are root. */
export interface PgUser {
  uid: number;
  gid: number;
}

/** The `postgres` OS user when we are root (initdb refuses root); none otherwise. */
export async function postgresOsUser(): Promise<PgUser | undefined> {
  if (!isRoot()) return undefined;
  const uid = await run("id", ["-u", "postgres"], { capture: true, check: false });
  const gid = await run("id", ["-g", "postgres"], { capture: true, check: false });
  if (uid.code !== 0 || gid.code !== 0) {
    throw new InfraError(
      "running as root, but there is no `postgres` OS user to run PostgreSQL as " +
        "(initdb refuses root): apt-get install -y postgresql creates it",
    );
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** Runs a PostgreSQL program, as the postgres OS user when we are root. */
export async function pgRun(
  owner: PgUser | undefined,
  cwd: string,
  program: string,
  args: string[],
): Promise<{ code: number; output: string }> {
  const [cmd, argv] = owner
    ? ["setsid", ["runuser", "-u", "postgres", "--", program, ...args]]
    : ["setsid", [program, ...args]];
  const r = await run(cmd, argv, { capture: true, check: false, cwd });
  return { code: r.code, output: `${r.stdout}${r.stderr}`.trim() };
}

function pgConf(cfg: InfraConfig): string {
  const { pgSocketDir } = layoutOf(cfg);
  return [
    "# Written by scripts/infra/postgres.ts before each start; edits are lost.",
    `listen_addresses = '${cfg.host}'`,
    `port = ${cfg.ports.postgres}`,
    `unix_socket_directories = '${pgSocketDir}'`,
    "wal_level = logical",
    "max_replication_slots = 20",
    "max_wal_senders = 20",
    "max_slot_wal_keep_size = 1GB",
    "shared_buffers = 32MB",
    "max_connections = 200",
    "fsync = on",
    "synchronous_commit = on",
    "timezone = 'UTC'",
    "log_timezone = 'UTC'",
    "log_line_prefix = '%m [%p] %q%u@%d '",
    "",
  ].join("\n");
}

/** The postmaster's pid if it runs for this profile's data folder. */
export function postgresPid(cfg: InfraConfig): number | undefined {
  const { pgData } = layoutOf(cfg);
  const pid = readPidFile(join(pgData, "postmaster.pid"));
  return pid !== undefined && isAlive(pid) && cmdlineOf(pid).includes(pgData) ? pid : undefined;
}

/** An admin connection (one connection) to a database of the cluster. */
export function pgAdmin(cfg: InfraConfig, database = "postgres"): postgres.Sql {
  return postgres({
    host: cfg.host,
    port: cfg.ports.postgres,
    user: PG_USER,
    password: PG_PASSWORD,
    database,
    max: 1,
    connect_timeout: 5,
    idle_timeout: 5,
    onnotice: () => {},
  });
}

async function selectOne(cfg: InfraConfig): Promise<boolean> {
  const sql = pgAdmin(cfg);
  try {
    await sql`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/**
 * Starts the profile's PostgreSQL unless it already runs (then it is reused), initialising the
 * cluster on first use, and creates the missing service databases.
 *
 * @returns Whether this call started the server.
 */
export async function ensurePostgres(
  cfg: InfraConfig,
  onProgress: Progress = silent,
): Promise<boolean> {
  const layout = layoutOf(cfg);
  const pidFile = pidFileOf(cfg, "postgres");
  const logFile = logFileOf(cfg, "postgres");
  const port = cfg.ports.postgres;
  let started = false;
  const running = postgresPid(cfg);
  if (running !== undefined) {
    if (!(await waitUntil(() => selectOne(cfg), { timeoutMs: 30_000, intervalMs: 200 }))) {
      throw healthError("postgres", running, port, logFile);
    }
    await Deno.writeTextFile(pidFile, `${running}\n`);
  } else {
    if (await portOpen(cfg.host, port)) throw portTakenError("postgres", port, cfg);
    const bin = await ensurePgInstalled(cfg, onProgress);
    const owner = await postgresOsUser();
    const t0 = performance.now();
    await Deno.mkdir(layout.logs, { recursive: true });
    await Deno.mkdir(layout.run, { recursive: true });
    await Deno.mkdir(layout.pgRoot, { recursive: true, mode: 0o700 });
    await Deno.mkdir(layout.pgSocketDir, { recursive: true, mode: 0o700 });
    if (owner) {
      for (const d of [layout.pgRoot, layout.pgSocketDir]) {
        await Deno.chown(d, owner.uid, owner.gid);
        await Deno.chmod(d, 0o700);
      }
      const probe = await pgRun(owner, layout.pgRoot, "test", ["-w", layout.pgRoot]);
      if (probe.code !== 0) {
        throw new InfraError(
          `the postgres OS user cannot write ${layout.pgRoot}: a parent folder is not ` +
            "world-searchable (a clone under /root?). Clone the repository elsewhere, or set " +
            "STOCKLET_STATE_DIR to a folder that every user can reach (e.g. /var/tmp/stocklet).",
        );
      }
    }
    if (!exists(join(layout.pgData, "PG_VERSION"))) {
      onProgress(`postgres: initdb ${layout.pgData}`);
      const pwFile = join(layout.pgRoot, ".pw");
      await Deno.writeTextFile(pwFile, `${PG_PASSWORD}\n`, { mode: 0o600 });
      if (owner) await Deno.chown(pwFile, owner.uid, owner.gid);
      const r = await pgRun(owner, layout.pgRoot, join(bin, "initdb"), [
        "-D",
        layout.pgData,
        "-U",
        PG_USER,
        `--pwfile=${pwFile}`,
        "--auth-local=trust",
        "--auth-host=scram-sha-256",
        "-E",
        "UTF8",
        "--locale=C.UTF-8",
        "--no-instructions",
      ]);
      await Deno.remove(pwFile).catch(() => {});
      if (r.code !== 0) {
        await Deno.remove(layout.pgData, { recursive: true }).catch(() => {});
        throw new InfraError(`initdb failed:\n${r.output}`);
      }
      await Deno.writeTextFile(
        join(layout.pgData, "postgresql.conf"),
        "\n# Stocklet's settings\ninclude_if_exists = 'stocklet.conf'\n",
        { append: true },
      );
    }
    const confFile = join(layout.pgData, "stocklet.conf");
    await Deno.writeTextFile(confFile, pgConf(cfg));
    await rotateLog(logFile);
    await Deno.writeTextFile(logFile, "");
    if (owner) {
      await Deno.chown(confFile, owner.uid, owner.gid);
      await Deno.chown(logFile, owner.uid, owner.gid);
    }
    onProgress(`postgres: starting on ${cfg.host}:${port}`);
    const start = () =>
      pgRun(owner, layout.pgRoot, join(bin, "pg_ctl"), [
        "-D",
        layout.pgData,
        "-l",
        logFile,
        "-w",
        "-t",
        "60",
        "-s",
        "start",
      ]);
    let r = await start();
    // After a crash (SIGKILL of the postmaster) its backends linger for a moment, still attached
    // to the old shared memory, and the new postmaster refuses to start: give them time to go.
    for (
      let attempt = 1;
      attempt < 15 && r.code !== 0 && postgresPid(cfg) === undefined;
      attempt++
    ) {
      await sleep(1000);
      r = await start();
    }
    const pid = postgresPid(cfg);
    if (r.code !== 0 || pid === undefined) {
      throw new InfraError(
        `postgres did not start (pg_ctl exit ${r.code}) ${r.output}\n` +
          `--- the end of ${logFile}:\n${tailFile(logFile, 40)}\n` +
          `Fix the cause above, or wipe the cluster with \`deno task infra reset\`` +
          `${cfg.profile === "test" ? " --profile test" : ""}.`,
      );
    }
    await Deno.writeTextFile(pidFile, `${pid}\n`);
    if (!(await waitUntil(() => selectOne(cfg), { timeoutMs: 30_000, intervalMs: 100 }))) {
      throw healthError("postgres", pid, port, logFile);
    }
    started = true;
    onProgress(`postgres: ready on port ${port} in ${elapsed(t0)}`);
  }
  return started;
}

/**
 * Creates the databases that do not exist yet (names are quoted: `user` and `order` are
 * reserved words).
 *
 * @returns The databases created.
 */
export async function ensureDatabases(
  cfg: InfraConfig,
  names: readonly string[],
): Promise<string[]> {
  const sql = pgAdmin(cfg);
  try {
    const rows = await sql<{ datname: string }[]>`select datname from pg_database`;
    const have = new Set(rows.map((r) => r.datname));
    const created: string[] = [];
    for (const name of names) {
      if (have.has(name)) continue;
      try {
        await sql`create database ${sql(name)}`;
      } catch (e) {
        if ((e as { code?: string }).code !== "42P04") throw e; // created meanwhile
      }
      created.push(name);
    }
    return created;
  } finally {
    await sql.end({ timeout: 5 });
  }
}
