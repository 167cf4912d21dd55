/**
 * The init container of a service's pods on Kubernetes (`deno run -A
 * deploy/k8s/wait_for_schema.ts`, in the app image): it waits until the service's init Job has
 * brought its schema to the version this image's migrations end at (or later), so new code never
 * runs on an old schema. It logs in as the service itself, so it also waits for the Job to have
 * made the service's role.
 *
 * Environment: `SERVICE`, `DATABASE_URL` (the service's own, as the service gets it).
 * @module
 */
import { join } from "node:path";
import postgres from "postgres";
import { loadConfig, oneOf, url } from "@stocklet/shared/config";
import { DATABASE_OWNERS } from "@stocklet/shared/topology";
import { loadMigrations, MIGRATIONS_ROOT } from "@stocklet/scripts/service_init/migrations";
import { runInit, sayer, waitUntil } from "./init_run.ts";

/** The `schema_migrations` row, or none. */
export interface SchemaState {
  version: number | null;
  dirty: boolean;
}

/**
 * Whether a database's schema serves code whose migrations end at `latest`: at that version or
 * a later one (migrations only add), and not half-applied. With no migrations, any state is.
 *
 * @example
 * ```ts
 * schemaReady({ version: 2, dirty: false }, 2); // true
 * schemaReady({ version: 1, dirty: false }, 2); // false: the Job has not run yet
 * ```
 */
export function schemaReady(state: SchemaState, latest: number | null): boolean {
  if (latest === null) return true;
  return state.version !== null && state.version >= latest && !state.dirty;
}

/** The schema's migration state, read only (the role's search_path is its schema). */
async function readSchema(sql: postgres.Sql): Promise<SchemaState> {
  try {
    const rows = await sql<{ version: string; dirty: boolean }[]>`
      select version::text as version, dirty from schema_migrations`;
    return rows[0]
      ? { version: Number(rows[0].version), dirty: rows[0].dirty }
      : { version: null, dirty: false };
  } catch (e) {
    // No table yet: the Job has not migrated.
    if ((e as { code?: string }).code === "42P01") return { version: null, dirty: false };
    throw e;
  }
}

async function main(): Promise<void> {
  const { service, databaseUrl } = loadConfig({
    service: oneOf("SERVICE", DATABASE_OWNERS.map((o) => o.name)),
    databaseUrl: url("DATABASE_URL", { protocols: ["postgres", "postgresql"] }),
  });
  const say = sayer("wait-for-schema");
  const latest = (await loadMigrations(join(MIGRATIONS_ROOT, service))).at(-1)?.version ?? null;
  const sql = postgres(databaseUrl, { max: 1, connect_timeout: 10, onnotice: () => {} });
  try {
    let state: SchemaState | undefined;
    await waitUntil(say, async () => {
      state = await readSchema(sql);
      if (schemaReady(state, latest)) return true;
      return `${service} needs migration ${latest}, its schema is at ` +
        `${state.version ?? "none"}${state.dirty ? " (dirty)" : ""}: is its init Job running?`;
    });
    say(`${service} is at migration ${state?.version ?? "none"}`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

if (import.meta.main) await runInit("wait-for-schema", main);
