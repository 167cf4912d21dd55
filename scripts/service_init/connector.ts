/**
 * The Debezium outbox connector of a service: its config (pure) and create-or-update against
 * Kafka Connect, then a wait until it streams (connector and task RUNNING, replication slot
 * active).
 * @module
 */
import postgres from "postgres";
import {
  getConnectorConfig,
  getConnectorStatus,
  putConnectorConfig,
  restartFailed,
  waitConnectorRunning,
} from "../infra/connect.ts";
import { InfraError, sleep } from "../infra/process.ts";

/** A connector's name, replication slot and publication (see `connectorOf` in shared/topology). */
export interface ConnectorNames {
  name: string;
  slot: string;
  publication: string;
}

/** Inputs of {@linkcode outboxConnectorConfig}. */
export interface OutboxConnectorOptions {
  names: ConnectorNames;
  /** The service's database, as Debezium reaches it. */
  db: { host: string; port: number; user: string; password: string; database: string };
  /** Partitions of topics Connect creates itself (topics not pre-created). */
  partitions: number;
  /** Idle WAL poll interval (ms). @default 20 */
  pollMs?: number;
}

/**
 * The connector config: pgoutput from `public.outbox` through its own slot and (filtered)
 * publication, no snapshot, polled every 20 ms (or `pollMs`); the EventRouter sends each row to the topic named
 * by `aggregatetype`, key `aggregateid`, value the `payload` bytes unchanged, headers `id`,
 * `type`, `traceparent` and `created_at`.
 *
 * @example
 * ```ts
 * const cfg = outboxConnectorConfig({ names: connectorOf("order"), db, partitions: 3 });
 * cfg["slot.name"]; // "stocklet_order_outbox"
 * ```
 */
export function outboxConnectorConfig(opts: OutboxConnectorOptions): Record<string, string> {
  const { names, db } = opts;
  return {
    "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
    "tasks.max": "1",
    "plugin.name": "pgoutput",
    "database.hostname": db.host,
    "database.port": String(db.port),
    "database.user": db.user,
    "database.password": db.password,
    "database.dbname": db.database,
    "topic.prefix": names.name,
    "slot.name": names.slot,
    "publication.name": names.publication,
    // service-init creates the publication itself, inserts only (see ensureInsertPublication).
    "publication.autocreate.mode": "disabled",
    "table.include.list": "public.outbox",
    "snapshot.mode": "no_data",
    "tombstones.on.delete": "false",
    "binary.handling.mode": "bytes",
    "extended.headers.enabled": "false",
    // The knob that trades latency for CPU: every idle connector polls. 10 ms gives the lowest hop
    // latency at ≈ 7 % of a core per connector idle; 20 ms halves that, and on a 2-core machine
    // the CPU it frees matters more under load (measured: peak 120 → 160 orders/s with the JIT on).
    "poll.interval.ms": String(opts.pollMs ?? 20),
    "key.converter": "org.apache.kafka.connect.storage.StringConverter",
    "value.converter": "org.apache.kafka.connect.converters.ByteArrayConverter",
    "topic.creation.default.replication.factor": "1",
    "topic.creation.default.partitions": String(opts.partitions),
    "transforms": "outbox",
    "transforms.outbox.type": "io.debezium.transforms.outbox.EventRouter",
    "transforms.outbox.route.by.field": "aggregatetype",
    "transforms.outbox.route.topic.replacement": "${routedByValue}",
    "transforms.outbox.table.field.event.key": "aggregateid",
    "transforms.outbox.table.field.event.payload": "payload",
    "transforms.outbox.table.field.event.id": "id",
    "transforms.outbox.table.expand.json.payload": "false",
    // `id` is added as a header by table.field.event.id: listing it here would give two.
    "transforms.outbox.table.fields.additional.placement":
      "type:header:type,traceparent:header:traceparent,created_at:header:created_at",
  };
}

/** The database part of a `postgres://user:password@host:port/db` URL. */
export function parsePgUrl(
  url: string,
): { host: string; port: number; user: string; password: string; database: string } {
  const u = new URL(url);
  if (u.protocol !== "postgres:" && u.protocol !== "postgresql:") {
    throw new Error(`not a postgres:// URL: ${url}`);
  }
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 5432,
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: decodeURIComponent(u.pathname.replace(/^\//, "")),
  };
}

/** A postgres URL with another database. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

/**
 * What {@linkcode applyConnector} did: `restarted` is an unchanged connector that had FAILED
 * (e.g. after the database restarted) and was restarted.
 */
export type ConnectorAction = "created" | "updated" | "unchanged" | "restarted";

function sameConfig(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a).filter((k) => k !== "name");
  const kb = Object.keys(b).filter((k) => k !== "name");
  return ka.length === kb.length && ka.every((k) => a[k] === b[k]);
}

/**
 * Creates or updates a connector, then waits until it streams. A connector whose config is
 * already the same is left alone (a PUT of the same config would restart it), unless it FAILED:
 * then its failed parts are restarted.
 */
export async function applyConnector(
  connectUrl: string,
  pgUrl: string,
  names: ConnectorNames,
  config: Record<string, string>,
  timeoutMs = 60_000,
): Promise<ConnectorAction> {
  await ensureInsertPublication(pgUrl, names.publication);
  const current = await getConnectorConfig(connectUrl, names.name);
  let action: ConnectorAction = current && sameConfig(current, config)
    ? "unchanged"
    : await putConnectorConfig(connectUrl, names.name, config);
  if (action === "unchanged") {
    const status = await getConnectorStatus(connectUrl, names.name);
    if (status && [status.connector, ...status.tasks].some((x) => x.state === "FAILED")) {
      await restartFailed(connectUrl, names.name);
      action = "restarted";
    }
  }
  await waitConnectorRunning(connectUrl, names.name, timeoutMs);
  await waitSlotActive(pgUrl, names.slot, timeoutMs);
  return action;
}

/**
 * Makes the connector's publication publish the outbox's inserts and nothing else. Relayed rows are
 * deleted later (purgeOutbox); with deletes left out of the publication, Postgres never decodes
 * them for Debezium and Connect never reads them, so purging costs the relay nothing.
 */
export async function ensureInsertPublication(pgUrl: string, publication: string): Promise<void> {
  const sql = postgres(pgUrl, { max: 1, onnotice: () => {} });
  try {
    const [pub] = await sql<{ ins: boolean; upd: boolean; del: boolean; trunc: boolean }[]>`
      select pubinsert as ins, pubupdate as upd, pubdelete as del, pubtruncate as trunc
      from pg_publication where pubname = ${publication}`;
    if (!pub) {
      await sql`create publication ${sql(publication)} for table public.outbox
                with (publish = 'insert')`;
      return;
    }
    if (!pub.ins || pub.upd || pub.del || pub.trunc) {
      await sql`alter publication ${sql(publication)} set (publish = 'insert')`;
    }
    const [member] = await sql`
      select 1 from pg_publication_tables
      where pubname = ${publication} and schemaname = 'public' and tablename = 'outbox'`;
    if (!member) await sql`alter publication ${sql(publication)} add table public.outbox`;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * Waits until a replication slot exists and a walsender streams from it: from then on every
 * commit is captured (the connector does not snapshot).
 */
export async function waitSlotActive(
  pgUrl: string,
  slot: string,
  timeoutMs = 60_000,
): Promise<void> {
  const sql = postgres(pgUrl, { max: 1, onnotice: () => {} });
  try {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const rows = await sql<{ active: boolean }[]>`
        select active from pg_replication_slots where slot_name = ${slot}`;
      if (rows[0]?.active) return;
      if (performance.now() >= deadline) {
        throw new InfraError(
          `replication slot ${slot} is ${rows.length ? "not active" : "missing"} after ` +
            `${
              timeoutMs / 1000
            } s although its connector is RUNNING; see \`deno task infra logs connect\``,
        );
      }
      await sleep(100);
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}
