/**
 * Where the dev stack keeps the spans it receives: a `traces` database in the stack's own Postgres,
 * one row per span. Small, queryable, and gone with `deno task infra reset`.
 * @module
 */
import postgres from "postgres";

/** One stored span. */
export interface SpanRow {
  trace_id: string;
  span_id: string;
  parent_id: string | null;
  service: string;
  name: string;
  kind: number;
  start_ns: bigint;
  end_ns: bigint;
  status: number;
  attributes: Record<string, unknown>;
}

/** The database the spans live in. */
export const TRACES_DB = "traces";

/** Creates the traces database and table if missing; returns a pool on it. */
export async function openTraceStore(adminUrl: string): Promise<postgres.Sql> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    const [exists] = await admin`select 1 from pg_database where datname = ${TRACES_DB}`;
    if (!exists) await admin.unsafe(`create database ${TRACES_DB}`).catch(() => {});
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${TRACES_DB}`;
  const sql = postgres(url.toString(), {
    max: 4,
    onnotice: () => {},
    types: { bigint: postgres.BigInt },
  });
  await sql`
    create table if not exists spans (
      trace_id   text not null,
      span_id    text not null,
      parent_id  text,
      service    text not null,
      name       text not null,
      kind       smallint not null,
      start_ns   bigint not null,
      end_ns     bigint not null,
      status     smallint not null,
      attributes jsonb not null,
      primary key (trace_id, span_id)
    )`;
  await sql`create index if not exists spans_order on spans ((attributes->>'stocklet.order_id'))`;
  await sql`create index if not exists spans_key on spans ((attributes->>'messaging.kafka.message.key'))`;
  return sql;
}
