import assert from "node:assert/strict";
import postgres from "postgres";
import { ensureInfra } from "../../scripts/infra/mod.ts";
import { withDatabase } from "../../scripts/service_init/database.ts";
import { connectDb, transaction } from "../db.ts";
import { uuidv7 } from "../ids.ts";
import { claim, purgeInbox } from "./inbox.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** A throwaway database with a service's outbox migration (outbox and inbox tables). */
async function inboxDb() {
  const infra = await ensureInfra("test");
  const name = `it_inbox_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const admin = postgres(infra.pgUrl("postgres"), { max: 1, onnotice: () => {} });
  await admin`create database ${admin(name)}`;
  const sql = connectDb(withDatabase(infra.pgUrl("postgres"), name));
  const ddl = await Deno.readTextFile(
    new URL("../../migrations/order/000001_outbox.up.sql", import.meta.url),
  );
  await sql.unsafe(ddl);
  return {
    sql,
    async drop() {
      await sql.end({ timeout: 5 });
      await admin`drop database if exists ${admin(name)} with (force)`;
      await admin.end({ timeout: 5 });
    },
  };
}

Deno.test("purgeInbox() deletes only rows older than the retention", opts, async () => {
  const db = await inboxDb();
  try {
    const ages = { old: "2 hours", recent: "10 minutes", now: "0 seconds" };
    for (const [topic, age] of Object.entries(ages)) {
      await db.sql`insert into inbox (consumer, event_id, topic, processed_at)
        values ('c', ${uuidv7()}, ${topic}, now() - ${age}::interval)`;
    }
    assert.equal(await purgeInbox(db.sql, 3600_000), 1);
    const left = await db.sql<{ topic: string }[]>`select topic from inbox order by topic`;
    assert.deepEqual(left.map((r) => r.topic), ["now", "recent"]);
  } finally {
    await db.drop();
  }
});

Deno.test(
  "claim() returns only the events not seen before, one statement for many",
  opts,
  async () => {
    const db = await inboxDb();
    try {
      const [a, b, c] = [uuidv7(), uuidv7(), uuidv7()];
      const first = await transaction(db.sql, "t", (tx) => claim(tx, "c", [{ id: a, topic: "t" }]));
      assert.deepEqual([...first], [a]);
      const second = await transaction(
        db.sql,
        "t",
        (tx) =>
          claim(tx, "c", [{ id: a, topic: "t" }, { id: b, topic: "t" }, { id: c, topic: "t" }]),
      );
      assert.deepEqual([...second].sort(), [b, c].sort());
      // Another consumer has its own inbox entries for the same events.
      const other = await transaction(db.sql, "t", (tx) => claim(tx, "d", [{ id: a, topic: "t" }]));
      assert.deepEqual([...other], [a]);
    } finally {
      await db.drop();
    }
  },
);
