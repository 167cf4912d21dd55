import assert from "node:assert/strict";
import postgres from "postgres";
import { ensureInfra, layoutOf } from "../scripts/infra/mod.ts";
import { withDatabase } from "../scripts/service_init/database.ts";
import { connectDb, socketOf, type Sql, transaction } from "./db.ts";
import { events } from "./proto.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** A throwaway database with an outbox (the service migration) and a table of our own. */
async function withDb(fn: (sql: Sql) => Promise<void>): Promise<void> {
  const infra = await ensureInfra("test");
  const name = `it_tx_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const admin = postgres(infra.pgUrl("postgres"), { max: 1, onnotice: () => {} });
  await admin`create database ${admin(name)}`;
  const sql = connectDb(withDatabase(infra.pgUrl("postgres"), name));
  try {
    await sql.unsafe(
      await Deno.readTextFile(new URL("../migrations/order/000001_outbox.up.sql", import.meta.url)),
    );
    await sql`create table t (k text primary key, v int not null)`;
    await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
    await admin`drop database if exists ${admin(name)} with (force)`;
    await admin.end({ timeout: 5 });
  }
}

const created = { revision: 1, orderId: "o-1", customerId: "c-1" };

Deno.test(
  "transaction() commits the business rows and the outbox rows together",
  opts,
  async () => {
    await withDb(async (sql) => {
      const id = await transaction(sql, "t", async (tx) => {
        await tx`insert into t values ('a', 1)`;
        return tx.publish("order.state.created", "o-1", events.OrderCreatedEventSchema, created);
      });
      assert.deepEqual([...await sql`select k, v from t`], [{ k: "a", v: 1 }]);
      const [row] = await sql<{ id: string; aggregatetype: string }[]>`
      select id, aggregatetype from outbox`;
      assert.deepEqual(row, { id, aggregatetype: "order.state.created" });
    });
  },
);

Deno.test(
  "transaction() leaves nothing behind when a statement fails, pipelined or not",
  opts,
  async () => {
    await withDb(async (sql) => {
      await assert.rejects(
        transaction(sql, "t", async (tx) => {
          await tx`insert into t values ('a', 1)`;
          tx.publish("order.state.created", "o-1", events.OrderCreatedEventSchema, created);
          await tx`insert into t values ('a', 2)`; // duplicate key
        }),
        /duplicate key/,
      );
      // Now the outbox insert fails, in the same flight as the COMMIT.
      await sql.unsafe(`
        create function refuse() returns trigger language plpgsql as
          $$ begin raise exception 'outbox refused'; end $$;
        create trigger refuse before insert on outbox
          for each row when (new.aggregateid = 'refuse') execute function refuse()`);
      await assert.rejects(
        transaction(sql, "t", async (tx) => {
          await tx`insert into t values ('b', 1)`;
          tx.publish("order.state.created", "refuse", events.OrderCreatedEventSchema, created);
        }),
        /outbox refused/,
      );
      assert.deepEqual([...await sql`select k from t`], []);
      assert.deepEqual([...await sql`select id from outbox`], []);
      // The connection is fine afterwards.
      await transaction(sql, "t", (tx) => tx`insert into t values ('c', 3)`);
      assert.deepEqual([...await sql`select k from t`], [{ k: "c" }]);
    });
  },
);

Deno.test("transaction() savepoints undo only their own writes", opts, async () => {
  await withDb(async (sql) => {
    await transaction(sql, "t", async (tx) => {
      await tx`insert into t values ('kept', 1)`;
      await assert.rejects(
        tx.savepoint(async (sp) => {
          await sp`insert into t values ('undone', 1)`;
          throw new Error("changed my mind");
        }),
        /changed my mind/,
      );
      await tx.savepoint((sp) => sp`insert into t values ('inner', 2)`);
    });
    assert.deepEqual([...await sql`select k from t order by k`].map((r) => r.k), ["inner", "kept"]);
  });
});

Deno.test(
  "transaction() returns the connection to the pool after every outcome",
  opts,
  async () => {
    await withDb(async (sql) => {
      // More transactions than the pool has connections, half of them failing.
      await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          transaction(sql, "t", async (tx) => {
            await tx`insert into t values (${`k${i}`}, ${i})`;
            if (i % 2) throw new Error("no");
          })),
      );
      const [row] = await sql<{ n: number }[]>`select count(*)::int as n from t`;
      assert.equal(row!.n, 10);
    });
  },
);

Deno.test("socketOf() turns libpq's ?host=<directory> into the socket's path", () => {
  assert.deepEqual(socketOf("postgres://u:p@127.0.0.1:5433/db?host=%2Frun%2Fpg%2F"), {
    url: "postgres://u:p@127.0.0.1:5433/db",
    path: "/run/pg/.s.PGSQL.5433",
  });
  assert.deepEqual(socketOf("postgres://u:p@127.0.0.1:5433/db"), {
    url: "postgres://u:p@127.0.0.1:5433/db",
  });
  assert.deepEqual(socketOf("postgres://u:p@db.internal/db?host=db.internal"), {
    url: "postgres://u:p@db.internal/db?host=db.internal",
  });
});

Deno.test("connectDb() with ?host=<directory> connects through the Unix socket", opts, async () => {
  const infra = await ensureInfra("test");
  const dir = layoutOf(infra.config).pgSocketDir;
  const sql = connectDb(`${infra.pgUrl("postgres")}?host=${encodeURIComponent(dir)}`, { max: 1 });
  try {
    // A Unix-socket session has no server address; a TCP one has 127.0.0.1.
    const [row] = await sql<Array<{ addr: string | null }>>`select inet_server_addr() as addr`;
    assert.equal(row!.addr, null);
  } finally {
    await sql.end({ timeout: 5 });
  }
  const tcp = connectDb(infra.pgUrl("postgres"), { max: 1 });
  try {
    const [row] = await tcp<Array<{ addr: string | null }>>`select inet_server_addr() as addr`;
    assert.equal(row!.addr, "127.0.0.1");
  } finally {
    await tcp.end({ timeout: 5 });
  }
});
