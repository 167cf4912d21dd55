/**
 * service-init: what a service needs before it starts, idempotently. For every service, its
 * database and migrations; for services with an outbox, also its topics (the ones it produces and
 * its consumer group's dead-letter topic) and its Debezium outbox connector.
 * @module
 */
import { join } from "node:path";
import postgres from "postgres";
import {
  connectorOf,
  consumerGroupOf,
  deadLetterTopicOf,
  serviceSpec,
} from "../../shared/topology.ts";
import { topicsProducedBy } from "../../shared/topics.ts";
import { ROOT } from "../lib/paths.ts";
import {
  applyConnector,
  type ConnectorAction,
  type ConnectorNames,
  outboxConnectorConfig,
  parsePgUrl,
  withDatabase,
} from "./connector.ts";
import { forceVersion, migrate, migrationConnection } from "./migrate.ts";
import { loadMigrations } from "./migrations.ts";
import { ensureTopics, topicPartitions } from "./topics.ts";

export { ensureTopics, topicPartitions } from "./topics.ts";
export { outboxConnectorConfig } from "./connector.ts";

/** The folder of the migrations (`migrations/<svc>/`). */
export const MIGRATIONS_ROOT: string = join(ROOT, "migrations");

/** Options for {@linkcode serviceInit}. */
export interface ServiceInitOptions {
  /** A `postgres://user:password@host:port/…` URL; its database part is replaced by `database`. */
  pgUrl: string;
  /** Kafka Connect REST base URL. */
  connectUrl: string;
  kafkaBrokers: string[];
  /** @default `migrations/<svc>` */
  migrationsDir?: string;
  /** @default the service's database (shared/topology) */
  database?: string;
  /** @default `connectorOf(svc)` (shared/topology) */
  connector?: ConnectorNames;
  /** Partitions of topics it creates. @default `STOCKLET_TOPIC_PARTITIONS` or 3 */
  partitions?: number;
  /** Roll back this many migrations instead (no topics, no connector). */
  down?: number;
  /** Record this migration version as clean without running anything (then stop). */
  force?: number;
  /** Connector wait timeout. @default 60000 */
  timeoutMs?: number;
  onProgress?: (line: string) => void;
}

/** What {@linkcode serviceInit} found and did. */
export interface InitReport {
  service: string;
  database: string;
  /** Whether the database had to be created. */
  createdDatabase: boolean;
  migrations: {
    from: number | null;
    to: number | null;
    /** Versions applied (or rolled back with `down`). */
    applied: number[];
    direction: "up" | "down" | "force";
  };
  /** Absent for services without an outbox (auth). */
  topics?: { created: string[]; existing: string[] };
  /** Absent for services without an outbox (auth). */
  connector?: { name: string; action: ConnectorAction };
  /** Whether anything changed. */
  changed: boolean;
  /** One line for humans, e.g. `order: up to date (migration 1, connector order-outbox unchanged)`. */
  summary: string;
}

async function ensureDatabase(pgUrl: string, database: string): Promise<boolean> {
  const sql = postgres(withDatabase(pgUrl, "postgres"), { max: 1, onnotice: () => {} });
  try {
    const rows = await sql`select 1 from pg_database where datname = ${database}`;
    if (rows.length) return false;
    try {
      await sql`create database ${sql(database)}`;
    } catch (e) {
      if ((e as { code?: string }).code === "42P04") return false;
      throw e;
    }
    return true;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** The topics a service's init pre-creates: what it produces, and its dead-letter topic. */
export function topicsOfService(svc: string): string[] {
  return [...topicsProducedBy(svc), deadLetterTopicOf(consumerGroupOf(svc))];
}

/**
 * Prepares one service: creates its database if missing, applies its migrations, and for a
 * service with an outbox pre-creates its topics and creates (or updates) its Debezium connector,
 * returning once the connector streams. Running it again changes nothing and says so.
 *
 * @example
 * ```ts
 * const infra = await ensureInfra("dev");
 * const report = await serviceInit("order", {
 *   pgUrl: infra.pgUrl("order"),
 *   connectUrl: infra.connectUrl,
 *   kafkaBrokers: infra.kafkaBrokers,
 * });
 * console.log(report.summary); // "order: up to date (migration 1, …)"
 * ```
 */
export async function serviceInit(svc: string, opts: ServiceInitOptions): Promise<InitReport> {
  const spec = serviceSpec(svc);
  const database = opts.database ?? spec.database;
  const url = withDatabase(opts.pgUrl, database);
  const say = opts.onProgress ?? (() => {});
  const createdDatabase = await ensureDatabase(opts.pgUrl, database);
  if (createdDatabase) say(`${svc}: created database ${database}`);

  const migrations = await loadMigrations(opts.migrationsDir ?? join(MIGRATIONS_ROOT, svc));
  const sql = migrationConnection(url);
  let m: InitReport["migrations"];
  try {
    if (opts.force !== undefined) {
      await forceVersion(sql, opts.force);
      const to = opts.force === 0 ? null : opts.force;
      const report: InitReport = {
        service: svc,
        database,
        createdDatabase,
        migrations: { from: null, to, applied: [], direction: "force" },
        changed: true,
        summary: `${svc}: migration version forced to ${opts.force} (clean)`,
      };
      return report;
    }
    const r = await migrate(sql, svc, migrations, {
      ...(opts.down === undefined ? {} : { down: opts.down }),
      onProgress: say,
    });
    m = r;
  } finally {
    await sql.end({ timeout: 5 });
  }

  let topics: InitReport["topics"];
  let connector: InitReport["connector"];
  if (spec.outbox && opts.down === undefined) {
    const partitions = opts.partitions ?? topicPartitions();
    topics = await ensureTopics(opts.kafkaBrokers, topicsOfService(svc), partitions);
    if (topics.created.length) say(`${svc}: created topics ${topics.created.join(", ")}`);
    const names = opts.connector ?? connectorOf(svc);
    const db = { ...parsePgUrl(url), database };
    const config = outboxConnectorConfig({
      names,
      db,
      partitions,
      ...(spec.outboxPollMs ? { pollMs: spec.outboxPollMs } : {}),
    });
    const action = await applyConnector(opts.connectUrl, url, names, config, opts.timeoutMs);
    if (action !== "unchanged") say(`${svc}: connector ${names.name} ${action}`);
    connector = { name: names.name, action };
  }

  const changed = createdDatabase || m.applied.length > 0 || (topics?.created.length ?? 0) > 0 ||
    (connector !== undefined && connector.action !== "unchanged");
  const version = m.to === null ? "no migrations" : `migration ${m.to}`;
  const parts = [version];
  if (m.applied.length) {
    parts.push(`${m.direction === "down" ? "rolled back" : "applied"} ${m.applied.join(", ")}`);
  }
  if (topics) {
    parts.push(
      topics.created.length
        ? `created ${topics.created.length} of ${
          topics.created.length + topics.existing.length
        } topics`
        : `${topics.existing.length} topics exist`,
    );
  }
  if (connector) parts.push(`connector ${connector.name} ${connector.action}`);
  return {
    service: svc,
    database,
    createdDatabase,
    migrations: m,
    ...(topics ? { topics } : {}),
    ...(connector ? { connector } : {}),
    changed,
    summary: `${svc}: ${changed ? "initialised" : "up to date"} (${parts.join(", ")})`,
  };
}
