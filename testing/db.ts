/**
 * A service's database for a test: a throwaway database with the service's migrations applied, on
 * the project's `test` infrastructure (or on the Postgres named by `STOCKLET_TEST_PG_ADMIN_URL`,
 * for quick runs against a server you already have). The one place that knows how a test gets a
 * service's tables.
 * @module
 */
import { join } from "node:path";
import postgres from "postgres";
import { connectDb, type Sql } from "@stocklet/shared/db";
import { MIGRATIONS_ROOT } from "@stocklet/scripts/service_init";
import { migrate, migrationConnection } from "@stocklet/scripts/service_init/migrate";
import { loadMigrations } from "@stocklet/scripts/service_init/migrations";
import { testInfra } from "./infra.ts";

/** A database created for one test file. */
export interface TestDb {
  name: string;
  url: string;
  /** A pool on it (closed by {@linkcode TestDb.drop}). */
  sql: Sql;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

let infraAdminUrl: Promise<string> | undefined;

/** The admin URL, bringing up (or reusing) the test infrastructure once per process. */
function adminUrl(): Promise<string> {
  const explicit = Deno.env.get("STOCKLET_TEST_PG_ADMIN_URL");
  if (explicit) return Promise.resolve(explicit);
  return infraAdminUrl ??= testInfra().then((infra) => infra.pgUrl("postgres"));
}

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

/**
 * Creates `test_<service>_<unique>` and migrates it up with service-init's migrator (the same
 * files, order and `schema_migrations` bookkeeping as a real start). Not `serviceInit` itself: for
 * a service with an outbox it would also point the service's Debezium connector at this database.
 *
 * @param service The folder under migrations/ (auth, user, …).
 */
export async function createTestDb(service: string): Promise<TestDb> {
  const admin = await adminUrl();
  const name = `test_${service}_${Date.now().toString(36)}_${
    Math.random().toString(36).slice(2, 8)
  }`;
  const root = postgres(admin, { max: 1, onnotice: () => {} });
  try {
    await root`create database ${root(name)}`;
  } finally {
    await root.end({ timeout: 5 });
  }
  const url = withDatabase(admin, name);
  const conn = migrationConnection(url);
  try {
    await migrate(conn, service, await loadMigrations(join(MIGRATIONS_ROOT, service)));
  } finally {
    await conn.end({ timeout: 5 });
  }
  const sql = connectDb(url, { max: 5 });
  return {
    name,
    url,
    sql,
    async drop() {
      await sql.end({ timeout: 5 });
      const root = postgres(admin, { max: 1, onnotice: () => {} });
      try {
        await root`drop database if exists ${root(name)} with (force)`;
      } finally {
        await root.end({ timeout: 5 });
      }
    },
  };
}
