/**
 * Where the dev stack keeps the spans it receives: a `traces` database in the stack's own Postgres,
 * one row per span. Small, queryable, and gone with `deno task infra reset`.
 *
 * The table is UNLOGGED: its rows never reach the write-ahead log. The stack's saga shares this
 * server, and a logged span table put every span in the WAL (the row and three index entries: at
 * 60 orders/s the server wrote 1,050 KB/s of WAL, 530 of them the saga's), made each export's
 * commit wait for an fsync beside the saga's commits, and gave the relay's WAL sender all of it to
 * read past. What that costs: a crash of the server (not a clean stop) empties the table, which
 * for a dev tool's traces is fine.
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
export async function openTraceStore(
  adminUrl: string,
  database: string = TRACES_DB,
): Promise<postgres.Sql> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    const [exists] = await admin`select 1 from pg_database where datname = ${database}`;
    if (!exists) await admin.unsafe(`create database "${database}"`).catch(() => {});
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  const sql = postgres(url.toString(), {
    max: 4,
    onnotice: () => {},
    types: { bigint: postgres.BigInt },
  });
  await sql`
    create unlogged table if not exists spans (
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
  // A store made before the table was unlogged is converted once (rewritten, so at a start).
  const [persistence] = await sql<{ p: string }[]>`
    select relpersistence as p from pg_class where oid = 'spans'::regclass`;
  if (persistence?.p === "p") await sql`alter table spans set unlogged`;
  await sql`create index if not exists spans_order on spans ((attributes->>'stocklet.order_id'))`;
  await sql`create index if not exists spans_key on spans ((attributes->>'messaging.kafka.message.key'))`;
  return sql;
}
