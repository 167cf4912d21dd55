/**
 * Applies migrations to a database like golang-migrate: `schema_migrations(version bigint primary
 * key, dirty boolean not null)` holds one row, the current version. Each migration is marked
 * dirty first (committed), then runs in its own transaction that also marks it clean, so a
 * failure or crash leaves a dirty row that stops later runs until a human looks. A session
 * advisory lock keeps two runs on the same database apart.
 * @module
 */
import postgres from "postgres";
import { type Migration, type MigrationState, planDown, planUp } from "./migrations.ts";

/** What {@linkcode migrate} did. */
export interface MigrateResult {
  /** Version before (null: none). */
  from: number | null;
  /** Version after (null: none). */
  to: number | null;
  /** Versions applied (up) or rolled back (down), in order. */
  applied: number[];
  direction: "up" | "down";
}

/** Options for {@linkcode migrate}. */
export interface MigrateOptions {
  /** Roll back this many migrations instead of migrating up. */
  down?: number;
  /** Progress lines. */
  onProgress?: (line: string) => void;
}

/** Lock id shared by every migration run (per database, since advisory locks are). */
const LOCK_ID = 7_270_811_001;

/** Opens the single connection migrations run on (the advisory lock is per session). */
export function migrationConnection(url: string): postgres.Sql {
  return postgres(url, { max: 1, connect_timeout: 10, onnotice: () => {} });
}

/** Creates `schema_migrations` if needed and reads the state. */
export async function readState(sql: postgres.Sql): Promise<MigrationState> {
  await sql`create table if not exists schema_migrations (
    version bigint not null primary key, dirty boolean not null)`;
  const rows = await sql<{ version: string; dirty: boolean }[]>`
    select version::text as version, dirty from schema_migrations`;
  if (rows.length > 1) {
    throw new Error(`schema_migrations has ${rows.length} rows; expected at most one`);
  }
  const row = rows[0];
  return row ? { version: Number(row.version), dirty: row.dirty } : { version: null, dirty: false };
}

async function setVersion(
  tx: postgres.TransactionSql,
  version: number | null,
  dirty: boolean,
): Promise<void> {
  await tx`delete from schema_migrations`;
  if (version !== null) {
    await tx`insert into schema_migrations (version, dirty) values (${version}, ${dirty})`;
  }
}

/**
 * Records a version as clean without running anything (golang-migrate's `force`), for after a
 * human fixed a dirty database. Version 0 means "no migration applied".
 */
export async function forceVersion(sql: postgres.Sql, version: number): Promise<void> {
  await readState(sql);
  await sql.begin((tx) => setVersion(tx, version === 0 ? null : version, false));
}

async function runFile(
  sql: postgres.Sql,
  m: Migration,
  file: string,
  after: number | null,
): Promise<void> {
  const body = await Deno.readTextFile(file);
  await sql.begin(async (tx) => {
    // Simple query protocol: the file may hold several statements.
    if (body.trim()) await tx.unsafe(body);
    await setVersion(tx, after, false);
  }).catch((e: unknown) => {
    const msg = e instanceof Error ? e.message : String(e);
    throw new Error(`migration ${m.version}_${m.name} (${file}) failed: ${msg}`, { cause: e });
  });
}

/**
 * Brings the database to the newest migration (or rolls back `down` of them).
 *
 * @param svc For messages.
 * @returns The versions before and after, and what was applied.
 */
export async function migrate(
  sql: postgres.Sql,
  svc: string,
  migrations: readonly Migration[],
  opts: MigrateOptions = {},
): Promise<MigrateResult> {
  const say = opts.onProgress ?? (() => {});
  await sql`select pg_advisory_lock(${LOCK_ID})`;
  try {
    const state = await readState(sql);
    const applied: number[] = [];
    if (opts.down !== undefined) {
      let version = state.version;
      for (const step of planDown(migrations, state, opts.down, svc)) {
        const m = step.migration;
        await sql.begin((tx) => setVersion(tx, m.version, true));
        say(`${svc}: rolling back migration ${m.version}_${m.name}`);
        await runFile(sql, m, m.down!, step.target);
        applied.push(m.version);
        version = step.target;
      }
      return { from: state.version, to: version, applied, direction: "down" };
    }
    let version = state.version;
    for (const m of planUp(migrations, state, svc)) {
      await sql.begin((tx) => setVersion(tx, m.version, true));
      say(`${svc}: applying migration ${m.version}_${m.name}`);
      await runFile(sql, m, m.up!, m.version);
      applied.push(m.version);
      version = m.version;
    }
    return { from: state.version, to: version, applied, direction: "up" };
  } finally {
    await sql`select pg_advisory_unlock(${LOCK_ID})`.catch(() => {});
  }
}
