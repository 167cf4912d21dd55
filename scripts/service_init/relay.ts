/**
 * The outbox relay: Debezium connectors that read outbox inserts from the WAL and route them to
 * Kafka (see `RelaySpec` and `DbLayout` in shared/topology). For each connector: the relay's own
 * outbox (heartbeats), a publication of the outboxes' inserts only, the connector's config (pure),
 * create-or-update against Kafka Connect, and a wait until it streams. Connectors and slots of an
 * earlier layout are removed, so no forgotten slot holds WAL back.
 * @module
 */
import postgres from "postgres";
import { RELAY_HEARTBEAT_TOPIC, RELAY_SCHEMA, type RelaySpec } from "@stocklet/shared/topology";
import {
  deleteConnector,
  getConnectorConfig,
  getConnectorStatus,
  listConnectors,
  putConnectorConfig,
  resetConnectorOffsets,
  restartFailed,
  resumeConnector,
  stopConnector,
  waitConnectorRunning,
} from "../infra/connect.ts";
import { InfraError, sleep } from "../infra/process.ts";
import { ident, literal, withDatabase } from "./database.ts";

/** Inputs of {@linkcode relayConnectorConfig}. */
export interface RelayConnectorOptions {
  relay: RelaySpec;
  /** The relay's database as Debezium reaches it (a user with REPLICATION). */
  db: { host: string; port: number; user: string; password: string };
  /** Partitions of topics Connect creates itself (topics not pre-created). */
  partitions: number;
  /** Idle WAL poll interval (ms). @default 20 */
  pollMs?: number;
  /** How often an idle relay writes a heartbeat through its outbox (ms). @default 10000 */
  heartbeatMs?: number;
  /**
   * Events Debezium hands to Connect per poll at most. Its queue's poll returns early only once it
   * holds this many events; with fewer it waits out `pollMs`. @default 1
   */
  maxBatchSize?: number;
}

/** The SQL Debezium runs at each heartbeat: an outbox row of its own, and old ones purged. */
export function heartbeatQuery(relay: RelaySpec): string {
  const table = `${RELAY_SCHEMA}.outbox`;
  return `insert into ${table} (id, aggregatetype, aggregateid, type, payload) values ` +
    `(gen_random_uuid(), ${literal(RELAY_HEARTBEAT_TOPIC)}, ${literal(relay.name)}, ` +
    `'stocklet.relay.Heartbeat', convert_to(clock_timestamp()::text, 'UTF8')); ` +
    `delete from ${table} where created_at < now() - interval '10 minutes'`;
}

/**
 * The connector config: pgoutput through the relay's own slot and publication (inserts of the
 * outbox tables only), no snapshot; the EventRouter sends each row to the topic named by
 * `aggregatetype`, key `aggregateid`, value the `payload` bytes unchanged, headers `id`, `type`,
 * `traceparent` and `created_at`; the Kafka timestamp is when Debezium read the row.
 *
 * @example
 * ```ts
 * const [relay] = relaysOf("shared");
 * const cfg = relayConnectorConfig({ relay, db, partitions: 1 });
 * cfg["slot.name"]; // "stocklet_outbox"
 * ```
 */
export function relayConnectorConfig(opts: RelayConnectorOptions): Record<string, string> {
  const { relay, db } = opts;
  const maxBatch = opts.maxBatchSize ?? 1;
  return {
    "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
    "tasks.max": "1",
    "plugin.name": "pgoutput",
    "database.hostname": db.host,
    "database.port": String(db.port),
    "database.user": db.user,
    "database.password": db.password,
    "database.dbname": relay.database,
    "topic.prefix": relay.name,
    "slot.name": relay.slot,
    "publication.name": relay.publication,
    // The publication is made by ensurePublication: inserts only.
    "publication.autocreate.mode": "disabled",
    "table.include.list": relay.tables.map((t) => t.replaceAll(".", "\\.")).join(","),
    "snapshot.mode": "no_data",
    "tombstones.on.delete": "false",
    "binary.handling.mode": "bytes",
    "extended.headers.enabled": "false",
    // The latency/CPU knob: an idle streaming loop sleeps this long between WAL reads.
    "poll.interval.ms": String(opts.pollMs ?? 20),
    // Debezium's queue returns a poll early only when it holds max.batch.size events; otherwise
    // it waits the whole poll interval. A batch of 1 hands each event over as soon as it is read
    // (under load Connect still sends many per producer request).
    "max.batch.size": String(maxBatch),
    "max.queue.size": String(Math.max(8192, maxBatch * 4)),
    // Idle relays still confirm their position: the heartbeat writes a row to the relay outbox,
    // so the slot advances even when no service writes (WAL from other databases is released).
    "heartbeat.interval.ms": String(opts.heartbeatMs ?? 10_000),
    "heartbeat.action.query": heartbeatQuery(relay),
    "key.converter": "org.apache.kafka.connect.storage.StringConverter",
    "value.converter": "org.apache.kafka.connect.converters.ByteArrayConverter",
    "topic.creation.default.replication.factor": "1",
    "topic.creation.default.partitions": String(opts.partitions),
    // Debezium's own heartbeat records (a struct on __debezium-heartbeat.*) are dropped: the
    // relay outbox row above is the heartbeat that reaches Kafka. Dropped records still commit
    // their offsets, so the slot advances.
    "transforms": "dropHeartbeats,outbox",
    "transforms.dropHeartbeats.type": "org.apache.kafka.connect.transforms.Filter",
    "transforms.dropHeartbeats.predicate": "isHeartbeat",
    "predicates": "isHeartbeat",
    "predicates.isHeartbeat.type":
      "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
    "predicates.isHeartbeat.pattern": "__debezium-heartbeat\\..*",
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

/** The DDL of an outbox table (the same columns as every service's `000001_outbox`). */
const OUTBOX_COLUMNS = `(
  id uuid primary key,
  aggregatetype text not null,
  aggregateid text not null,
  type text not null,
  payload bytea not null,
  traceparent text,
  created_at timestamptz not null default clock_timestamp()
)`;

/** The relay's own schema and outbox in a database (heartbeat rows go there). */
export async function ensureRelayOutbox(dbAdminUrl: string): Promise<void> {
  const sql = postgres(dbAdminUrl, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`create schema if not exists ${ident(RELAY_SCHEMA)}`);
    await sql.unsafe(`create table if not exists ${ident(RELAY_SCHEMA)}.outbox ${OUTBOX_COLUMNS}`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** `schema.table` as a quoted SQL name. */
function qualified(table: string): string {
  const [schema, name] = table.split(".") as [string, string];
  return `${ident(schema)}.${ident(name)}`;
}

/**
 * Makes the publication publish exactly the relay's outbox tables, inserts only. Relayed rows are
 * deleted later by the services' purge; with deletes left out, PostgreSQL never decodes them for
 * Debezium and Connect never reads them, so purging costs the relay nothing.
 */
export async function ensurePublication(dbAdminUrl: string, relay: RelaySpec): Promise<void> {
  const sql = postgres(dbAdminUrl, { max: 1, onnotice: () => {} });
  try {
    const tables = relay.tables.map(qualified).join(", ");
    const [pub] = await sql<{ ins: boolean; upd: boolean; del: boolean; trunc: boolean }[]>`
      select pubinsert as ins, pubupdate as upd, pubdelete as del, pubtruncate as trunc
      from pg_publication where pubname = ${relay.publication}`;
    if (!pub) {
      await sql.unsafe(
        `create publication ${ident(relay.publication)} for table ${tables} ` +
          `with (publish = 'insert')`,
      );
      return;
    }
    if (!pub.ins || pub.upd || pub.del || pub.trunc) {
      await sql.unsafe(`alter publication ${ident(relay.publication)} set (publish = 'insert')`);
    }
    const have = (await sql<{ t: string }[]>`
      select schemaname || '.' || tablename as t from pg_publication_tables
      where pubname = ${relay.publication}`).map((r) => r.t).sort();
    if (have.join(",") !== [...relay.tables].sort().join(",")) {
      await sql.unsafe(`alter publication ${ident(relay.publication)} set table ${tables}`);
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * Prepares a relay's database for its connector: the relay outbox (heartbeats) and the
 * publication of every outbox it relays. The services' outbox tables must exist (their
 * migrations ran). Where something else owns the connector (Strimzi's `KafkaConnector` on
 * Kubernetes), this is all service-init does for a relay.
 *
 * @param adminUrl An administrator's URL of the cluster (any database).
 */
export async function prepareRelay(adminUrl: string, relay: RelaySpec): Promise<void> {
  const dbUrl = withDatabase(adminUrl, relay.database);
  await ensureRelayOutbox(dbUrl);
  await ensurePublication(dbUrl, relay);
}

/**
 * What {@linkcode applyRelay} did: `restarted` is an unchanged connector that had FAILED (e.g.
 * after the database restarted) and was restarted; `repaired` is a connector whose replication
 * slot PostgreSQL had invalidated, started afresh with its unrelayed rows published again.
 */
export type ConnectorAction = "created" | "updated" | "unchanged" | "restarted" | "repaired";

function sameConfig(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a).filter((k) => k !== "name");
  const kb = Object.keys(b).filter((k) => k !== "name");
  return ka.length === kb.length && ka.every((k) => a[k] === b[k]);
}

/**
 * Prepares the relay's database ({@linkcode prepareRelay}), then creates or updates its
 * connector and waits until it streams. A connector whose config is already the same is left
 * alone (a PUT of the same config would restart it), unless it FAILED: then its failed parts are
 * restarted.
 *
 * @param adminUrl An administrator's URL of the cluster (any database).
 */
export async function applyRelay(
  connectUrl: string,
  adminUrl: string,
  relay: RelaySpec,
  config: Record<string, string>,
  timeoutMs = 60_000,
): Promise<ConnectorAction> {
  await prepareRelay(adminUrl, relay);
  const dbUrl = withDatabase(adminUrl, relay.database);
  const lost = await slotLost(dbUrl, relay.slot);
  if (lost) await forgetLostSlot(connectUrl, dbUrl, relay);
  const current = await getConnectorConfig(connectUrl, relay.name);
  let action: ConnectorAction = current && sameConfig(current, config)
    ? "unchanged"
    : await putConnectorConfig(connectUrl, relay.name, config);
  if (lost) {
    if (current) await resumeConnector(connectUrl, relay.name);
    await waitConnectorRunning(connectUrl, relay.name, timeoutMs);
    await waitSlotActive(dbUrl, relay.slot, timeoutMs);
    await republish(dbUrl, relay);
    return "repaired";
  }
  if (action === "unchanged") {
    const status = await getConnectorStatus(connectUrl, relay.name);
    if (status && [status.connector, ...status.tasks].some((x) => x.state === "FAILED")) {
      await restartFailed(connectUrl, relay.name);
      action = "restarted";
    }
  }
  await waitConnectorRunning(connectUrl, relay.name, timeoutMs);
  await waitSlotActive(dbUrl, relay.slot, timeoutMs);
  return action;
}

/** Whether PostgreSQL invalidated the slot (its WAL is gone: it can never stream again). */
async function slotLost(dbUrl: string, slot: string): Promise<boolean> {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ wal_status: string | null }[]>`
      select wal_status from pg_replication_slots where slot_name = ${slot}`;
    return row?.wal_status === "lost";
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * Takes a connector whose slot was invalidated back to a clean start: stopped, its stored WAL
 * position forgotten, the dead slot dropped (Debezium makes a new one when it resumes).
 */
async function forgetLostSlot(connectUrl: string, dbUrl: string, relay: RelaySpec): Promise<void> {
  if (await getConnectorConfig(connectUrl, relay.name)) {
    await stopConnector(connectUrl, relay.name);
    await resetConnectorOffsets(connectUrl, relay.name);
  }
  await dropSlotOnceFree(dbUrl, relay.slot);
}

/**
 * Drops a replication slot once no walsender holds it (a stopped connector's lets go a moment
 * later); nothing to do when it is gone already.
 */
export async function dropSlotOnceFree(dbUrl: string, slot: string): Promise<void> {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    const deadline = performance.now() + 30_000;
    for (;;) {
      const [row] = await sql<{ active: boolean }[]>`
        select active from pg_replication_slots where slot_name = ${slot}`;
      if (!row) return;
      if (!row.active) {
        await sql`select pg_drop_replication_slot(${slot})`.catch(() => {});
        continue;
      }
      if (performance.now() > deadline) {
        throw new InfraError(`the lost slot ${slot} is still in use after 30 s`);
      }
      await sleep(200);
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * Publishes every row still in the relay's outboxes again, by deleting and re-inserting it (same
 * id, a new `created_at`, so the services' purge waits for this relay): rows whose relay was lost
 * with the slot were never purged (the purge waits for the slot's confirmation), so they are all
 * there; rows that were relayed already reach their consumers a second time and are skipped by
 * the inbox. Nothing is lost, nothing applies twice.
 */
export async function republish(dbUrl: string, relay: RelaySpec): Promise<void> {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    for (const table of relay.tables) {
      const t = qualified(table);
      await sql.unsafe(
        `with moved as (delete from ${t} returning *) insert into ${t} select * from moved`,
      );
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Names the project gives its relay connectors, today's and earlier layouts' ones. */
const OWN_CONNECTOR = /^(stocklet-outbox|stocklet-[a-z]+-outbox|[a-z]+-outbox)$/;
/** Replication slots of those connectors. */
const OWN_SLOT = /^stocklet_([a-z]+_)?outbox$/;

/**
 * Removes relay connectors and replication slots of another layout (or an earlier version): a
 * connector named like ours but not in `keep` is deleted, and an inactive slot named like ours
 * that no kept connector uses is dropped, so it cannot hold WAL back. Test fixtures' connectors
 * (other names) are never touched.
 *
 * @returns The connectors and slots removed.
 */
export async function pruneRelays(
  connectUrl: string,
  adminUrl: string,
  keep: readonly RelaySpec[],
): Promise<string[]> {
  const removed: string[] = [];
  const keepNames = new Set(keep.map((r) => r.name));
  for (const name of await listConnectors(connectUrl)) {
    if (OWN_CONNECTOR.test(name) && !keepNames.has(name)) {
      await deleteConnector(connectUrl, name);
      removed.push(`connector ${name}`);
    }
  }
  const keepSlots = new Set(keep.map((r) => r.slot));
  const sql = postgres(withDatabase(adminUrl, "postgres"), { max: 1, onnotice: () => {} });
  try {
    const deadline = performance.now() + 30_000;
    for (;;) {
      const slots = (await sql<{ slot_name: string; active: boolean }[]>`
        select slot_name, active from pg_replication_slots`)
        .filter((s) => OWN_SLOT.test(s.slot_name) && !keepSlots.has(s.slot_name));
      for (const s of slots.filter((x) => !x.active)) {
        await sql`select pg_drop_replication_slot(${s.slot_name})`.catch(() => {});
        removed.push(`slot ${s.slot_name}`);
      }
      // A deleted connector's walsender goes away a moment later; then its slot can go.
      if (!slots.some((s) => s.active) || performance.now() > deadline) break;
      await sleep(200);
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
  return removed;
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
