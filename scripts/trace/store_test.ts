import assert from "node:assert/strict";
import postgres from "postgres";
import { testInfra } from "@stocklet/testing/infra";
import { openTraceStore } from "./store.ts";

Deno.test("openTraceStore() keeps spans in an unlogged table, converting a store made before", async () => {
  const infra = await testInfra();
  const adminUrl = infra.pgUrl("postgres");
  const database = `traces_store_test_${crypto.randomUUID().slice(0, 8)}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${database}"`);
    // A store as the collector made it before: a logged table holding a span.
    const old = postgres(infra.pgUrl(database), { max: 1, onnotice: () => {} });
    await old`
      create table spans (
        trace_id text not null, span_id text not null, parent_id text, service text not null,
        name text not null, kind smallint not null, start_ns bigint not null,
        end_ns bigint not null, status smallint not null, attributes jsonb not null,
        primary key (trace_id, span_id))`;
    await old`insert into spans values ('t1', 's1', null, 'order', 'place', 2, 1, 2, 0, '{}')`;
    await old.end();

    const sql = await openTraceStore(adminUrl, database);
    try {
      const persistence = async () =>
        (await sql<{ p: string }[]>`
          select relpersistence as p from pg_class where oid = 'spans'::regclass`)[0]?.p;
      assert.equal(await persistence(), "u", "unlogged");
      assert.deepEqual(
        [...await sql`select trace_id, span_id from spans`],
        [{ trace_id: "t1", span_id: "s1" }],
        "the spans it held are kept",
      );
      // Opening it again changes nothing.
      await (await openTraceStore(adminUrl, database)).end();
      assert.equal(await persistence(), "u");
    } finally {
      await sql.end();
    }
  } finally {
    await admin.unsafe(`drop database if exists "${database}" with (force)`);
    await admin.end();
  }
});
