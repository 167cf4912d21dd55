/**
 * A service's init on Kubernetes, in the app image (`deno run -A deploy/k8s/service_init.ts`):
 *
 * - without arguments, the service-init Job: the part of `deno task service-init` that Kubernetes
 *   leaves to it — the migrations from `migrations/<svc>/` and, with an outbox, the publication
 *   Debezium reads — while CloudNativePG makes the database and Strimzi the topics (KafkaTopic)
 *   and the connector (KafkaConnector);
 * - with `--wait`, the init container of the service's pods: it waits until the Job has brought
 *   the schema to the version this image's migrations end at (or later), so new code never runs
 *   on an old schema.
 *
 * Environment: `SERVICE`, `DATABASE_URL`.
 * @module
 */
import { join } from "node:path";
import postgres from "postgres";
import { ConfigError, loadConfig, oneOf, url } from "../../shared/config.ts";
import { connectorOf, SERVICE_NAMES, serviceSpec } from "../../shared/topology.ts";
import { InfraError } from "../../scripts/infra/process.ts";
import { ensureInsertPublication } from "../../scripts/service_init/connector.ts";
import { migrate, migrationConnection } from "../../scripts/service_init/migrate.ts";
import { loadMigrations, MigrationError } from "../../scripts/service_init/migrations.ts";
import { MIGRATIONS_ROOT } from "../../scripts/service_init/mod.ts";

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

async function readSchema(sql: postgres.Sql): Promise<SchemaState> {
  try {
    const rows = await sql<{ version: string; dirty: boolean }[]>`
      select version::text as version, dirty from schema_migrations`;
    return rows[0] ? { version: Number(rows[0].version), dirty: rows[0].dirty } : {
      version: null,
      dirty: false,
    };
  } catch (e) {
    // No table yet: the Job has not started.
    if ((e as { code?: string }).code === "42P01") return { version: null, dirty: false };
    throw e;
  }
}

async function waitForSchema(service: string, databaseUrl: string): Promise<void> {
  const migrations = await loadMigrations(join(MIGRATIONS_ROOT, service));
  const latest = migrations.at(-1)?.version ?? null;
  const sql = postgres(databaseUrl, { max: 1, connect_timeout: 10, onnotice: () => {} });
  const t0 = performance.now();
  let last = 0;
  try {
    for (;;) {
      const state = await readSchema(sql).catch((e) => {
        console.error(`wait-for-schema: ${e instanceof Error ? e.message : e}`);
        return undefined;
      });
      if (state && schemaReady(state, latest)) {
        console.error(`wait-for-schema: ${service} is at migration ${state.version ?? "none"}`);
        return;
      }
      if (performance.now() - last > 10_000) {
        last = performance.now();
        console.error(
          `wait-for-schema: ${service} needs migration ${latest}, the database is at ` +
            `${state ? `${state.version ?? "none"}${state.dirty ? " (dirty)" : ""}` : "?"} ` +
            `after ${Math.round((performance.now() - t0) / 1000)} s: is its init Job running?`,
        );
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function main(): Promise<number> {
  const { service, databaseUrl } = loadConfig({
    service: oneOf("SERVICE", SERVICE_NAMES),
    databaseUrl: url("DATABASE_URL", { protocols: ["postgres", "postgresql"] }),
  });
  if (Deno.args.includes("--wait")) {
    await waitForSchema(service, databaseUrl);
    return 0;
  }
  const say = (line: string) => console.error(`service-init: ${line}`);
  const migrations = await loadMigrations(join(MIGRATIONS_ROOT, service));
  const sql = migrationConnection(databaseUrl);
  try {
    const r = await migrate(sql, service, migrations, { onProgress: say });
    say(
      `${service}: at migration ${r.to ?? "none"}, applied now: ${r.applied.join(", ") || "none"}`,
    );
  } finally {
    await sql.end({ timeout: 5 });
  }
  if (serviceSpec(service).outbox) {
    const { publication } = connectorOf(service);
    await ensureInsertPublication(databaseUrl, publication);
    say(`${service}: publication ${publication} carries the outbox's inserts`);
  }
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (e) {
    if (e instanceof ConfigError || e instanceof MigrationError || e instanceof InfraError) {
      console.error(`service-init: ${e.message}`);
      Deno.exit(1);
    }
    throw e;
  }
}
