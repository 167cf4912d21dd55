/**
 * Test helpers over the real test infrastructure: a throwaway outbox database with its own
 * Debezium connector and topic (dropped afterwards, slot included), outbox inserts like
 * shared/outbox.ts does them, and a kafkajs collector.
 * @module
 */
import "@stocklet/shared/kafkajs_timer_fix";
import { copyFile } from "node:fs/promises";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import postgres from "postgres";
import type { OutboxEvent } from "@stocklet/shared/outbox";
import type { InfraHandle } from "@stocklet/scripts/infra";
import { deleteConnector } from "@stocklet/scripts/infra/connect";
import { sleep } from "@stocklet/scripts/infra/process";
import {
  type InitReport,
  MIGRATIONS_ROOT,
  serviceInit,
  withDatabase,
} from "@stocklet/scripts/service_init";
import { placementOf, RELAY_SCHEMA, type RelaySpec } from "@stocklet/shared/topology";
import { ensureTopics } from "@stocklet/scripts/service_init/topics";

/** A throwaway database of a service, with its outbox connector routing to `topic`. */
export interface OutboxFixture {
  service: string;
  database: string;
  connector: RelaySpec;
  /** A fresh topic (3 partitions) for the rows this fixture inserts. */
  topic: string;
  /** A pool on the database, as the service's role (its schema is the search_path). */
  sql: postgres.Sql;
  /** Where its migrations were copied (only `000001_outbox`). */
  migrationsDir: string;
  /** The first service-init's report. */
  report: InitReport;
  /** Deletes the connector, drops the slot, the database and the topic. */
  drop(): Promise<void>;
}

function suffix(): string {
  return `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/**
 * Creates a database `it_<svc>_<suffix>` with the service's schema and outbox migration, a
 * connector of its own over it (`it-<svc>-<suffix>`, own slot and publication: the `isolated`
 * layout's shape) and a fresh topic.
 */
export async function createOutboxFixture(
  infra: InfraHandle,
  service: string,
  opts: {
    /** The connector's heartbeat interval (ms); 0: no heartbeats. @default 10000 */
    heartbeatMs?: number;
  } = {},
): Promise<OutboxFixture> {
  const s = suffix();
  const database = `it_${service}_${s}`;
  const connector: RelaySpec = {
    name: `it-${service}-${s}`,
    slot: `it_${service}_${s}`,
    publication: `it_${service}_${s}`,
    database,
    services: [service as RelaySpec["services"][number]],
    tables: [`${service}.outbox`, `${RELAY_SCHEMA}.outbox`],
  };
  const placement = { ...placementOf(service), database };
  const topic = `it.${service}.${s}`;
  const migrationsDir = await Deno.makeTempDir({ prefix: "stocklet-mig-" });
  for (const f of ["000001_outbox.up.sql", "000001_outbox.down.sql"]) {
    await copyFile(join(MIGRATIONS_ROOT, service, f), join(migrationsDir, f));
  }
  const drop = async (): Promise<void> => {
    await dropOutboxFixture(infra, { database, connector, topic, migrationsDir });
  };
  let report: InitReport;
  try {
    await ensureTopics(infra.kafkaBrokers, [topic], 3);
    report = await serviceInit(service, {
      adminUrl: infra.pgUrl("postgres"),
      connectUrl: infra.connectUrl,
      kafkaBrokers: infra.kafkaBrokers,
      migrationsDir,
      placement,
      relay: connector,
      ...(opts.heartbeatMs === undefined ? {} : { heartbeatMs: opts.heartbeatMs }),
    });
  } catch (e) {
    await drop().catch(() => {});
    throw e;
  }
  const sql = postgres(
    withDatabase(infra.serviceDbUrl(service), database),
    { max: 4, onnotice: () => {} },
  );
  return {
    service,
    database,
    connector,
    topic,
    sql,
    migrationsDir,
    report,
    drop: async () => {
      await sql.end({ timeout: 5 });
      await drop();
    },
  };
}

async function dropOutboxFixture(
  infra: InfraHandle,
  f: {
    database: string;
    connector: { name: string; slot: string };
    topic: string;
    migrationsDir: string;
  },
): Promise<void> {
  await deleteConnector(infra.connectUrl, f.connector.name).catch(() => false);
  const admin = postgres(infra.pgUrl("postgres"), { max: 1, onnotice: () => {} });
  try {
    // The walsender goes away shortly after the task stops; the slot can be dropped then.
    for (let i = 0; i < 150; i++) {
      const rows = await admin<{ active: boolean; active_pid: number | null }[]>`
        select active, active_pid from pg_replication_slots where slot_name = ${f.connector.slot}`;
      if (!rows.length) break;
      if (!rows[0]!.active) {
        await admin`select pg_drop_replication_slot(${f.connector.slot})`.catch(() => {});
        continue;
      }
      if (i === 100 && rows[0]!.active_pid) {
        await admin`select pg_terminate_backend(${rows[0]!.active_pid})`;
      }
      await sleep(100);
    }
    await admin`drop database if exists ${admin(f.database)} with (force)`;
  } finally {
    await admin.end({ timeout: 5 });
  }
  const kafka = new Kafka({
    clientId: "stocklet-test-cleanup",
    brokers: infra.kafkaBrokers,
    logLevel: logLevel.NOTHING,
  });
  const ka = kafka.admin();
  await ka.connect();
  try {
    await ka.deleteTopics({ topics: [f.topic] }).catch(() => {});
  } finally {
    await ka.disconnect();
  }
  await Deno.remove(f.migrationsDir, { recursive: true }).catch(() => {});
}

/** One outbox row, as shared/outbox.ts writes it. */
export type OutboxRow = OutboxEvent;

function hex(bytes: number): string {
  return [...crypto.getRandomValues(new Uint8Array(bytes))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A row for `topic` with random bytes (0x00 and 0xff included) and a W3C traceparent. */
export function randomRow(topic: string, size = 64): OutboxRow {
  const payload = crypto.getRandomValues(new Uint8Array(size));
  payload[0] = 0x00;
  payload[size - 1] = 0xff;
  return {
    id: crypto.randomUUID(),
    aggregatetype: topic,
    aggregateid: `agg-${hex(4)}`,
    type: "stocklet.events.v1.InfraTestEvent",
    payload,
    traceparent: `00-${hex(16)}-${hex(8)}-01`,
  };
}

/** Commits rows in one transaction, inserted and deleted again (as shared/outbox.ts does). */
export async function commitOutbox(sql: postgres.Sql, rows: OutboxRow[]): Promise<void> {
  await sql.begin(async (tx) => {
    for (const r of rows) {
      await tx`insert into outbox (id, aggregatetype, aggregateid, type, payload, traceparent)
        values (${r.id}, ${r.aggregatetype}, ${r.aggregateid}, ${r.type}, ${r.payload}, ${r.traceparent})`;
    }
    await tx`delete from outbox where id in ${tx(rows.map((r) => r.id))}`;
  });
}

/** A record as the collector received it. */
export interface Received {
  topic: string;
  partition: number;
  key: string | null;
  value: Uint8Array | null;
  headers: Record<string, string>;
  /** `performance.now()` when eachMessage saw it. */
  at: number;
}

/** A running kafkajs consumer that keeps what it receives. */
export interface Collector {
  records: Received[];
  /** Resolves once `pred` holds for the records, or rejects after timeoutMs. */
  waitFor(pred: (records: Received[]) => boolean, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Subscribes a fresh consumer group to topics (from the beginning: the topics are fresh) and
 * resolves once it has joined, so that `at - commit time` is the delivery latency.
 */
export async function collect(brokers: string[], topics: string[]): Promise<Collector> {
  const kafka = new Kafka({ clientId: "stocklet-infra-test", brokers, logLevel: logLevel.ERROR });
  const consumer = kafka.consumer({ groupId: `it-${crypto.randomUUID()}`, maxWaitTimeInMs: 100 });
  const records: Received[] = [];
  await consumer.connect();
  const joined = new Promise<void>((resolve) => {
    consumer.on(consumer.events.GROUP_JOIN, () => resolve());
  });
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({
    eachMessage: ({ topic, partition, message }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) {
        headers[k] = Array.isArray(v) ? v.map(String).join(",") : String(v);
      }
      records.push({
        topic,
        partition,
        key: message.key ? message.key.toString("utf8") : null,
        value: message.value ? new Uint8Array(message.value) : null,
        headers,
        at: performance.now(),
      });
      return Promise.resolve();
    },
  });
  await joined;
  return {
    records,
    async waitFor(pred, timeoutMs = 30_000) {
      const deadline = performance.now() + timeoutMs;
      while (!pred(records)) {
        if (performance.now() > deadline) {
          throw new Error(`timed out after ${timeoutMs} ms with ${records.length} records`);
        }
        await sleep(20);
      }
    },
    async stop() {
      await consumer.disconnect();
    },
  };
}

/** The value at quantile q (0..1) of some numbers (nearest rank). */
export function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] ?? NaN;
}
