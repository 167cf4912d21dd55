import assert from "node:assert/strict";
import postgres from "postgres";
import { pauseConnector, resumeConnector } from "@stocklet/scripts/infra/connect";
import { serviceInit } from "@stocklet/scripts/service_init";
import { testInfra } from "@stocklet/testing/infra";
import { collect, createOutboxFixture, randomRow } from "@stocklet/testing/outbox";
import { flushOutbox, purgeOutbox } from "./outbox.ts";
import { parseLsn, relayProblem, RelayWatch } from "./relay_watch.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test("parseLsn() reads PostgreSQL's hi/lo notation", () => {
  assert.equal(parseLsn("0/16B3748"), 0x16b3748n);
  assert.equal(parseLsn("16/B374D848"), (0x16n << 32n) + 0xb374d848n);
});

Deno.test("relayProblem() fails readiness on a lost or missing slot and on lag, not before", () => {
  const startedAt = 0;
  const ok = { maxLagMs: 60_000, startedAt, now: 30_000 };
  assert.equal(relayProblem({ slot: "ok", lagMs: 5_000 }, ok), undefined);
  assert.equal(relayProblem({ slot: "inactive", lagMs: 5_000 }, ok), undefined, "a restart");
  assert.match(relayProblem({ slot: "lost" }, ok)!, /invalidated/);
  assert.match(relayProblem({ slot: "missing" }, ok)!, /does not exist/);
  assert.match(relayProblem({ slot: "ok", lagMs: 61_000 }, ok)!, /61 s behind/);
  assert.equal(relayProblem({ slot: "ok" }, ok), undefined, "nothing confirmed yet, early on");
  assert.match(
    relayProblem({ slot: "ok" }, { ...ok, now: 61_000 })!,
    /confirmed nothing in 61 s/,
  );
});

async function until(what: string, pred: () => Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

Deno.test(
  "the outbox purge never deletes a row the relay has not confirmed",
  opts,
  async () => {
    const infra = await testInfra();
    const f = await createOutboxFixture(infra, "order", { heartbeatMs: 1000 });
    const db = f.sql as unknown as Parameters<typeof purgeOutbox>[0];
    const watch = new RelayWatch(db, f.connector.slot);
    const received = await collect(infra.kafkaBrokers, [f.topic]);
    try {
      await pauseConnector(infra.connectUrl, f.connector.name);
      await new Promise((r) => setTimeout(r, 1500)); // the task stops at its next poll
      const rows = [randomRow(f.topic), randomRow(f.topic)];
      await f.sql.begin((tx) => flushOutbox(tx as never, rows));
      // Time passes and the purge runs, but nothing was relayed: every row stays.
      for (let i = 0; i < 4; i++) {
        await watch.tick();
        await new Promise((r) => setTimeout(r, 500));
      }
      const before = watch.state.relayedBefore ?? new Date(0);
      const [newest] = await f.sql<{ t: Date }[]>`select max(created_at) as t from outbox`;
      assert.ok(before < newest!.t, "the watermark is older than the unrelayed rows");
      await purgeOutbox(db, before);
      const [left] = await f.sql<{ n: number }[]>`select count(*)::int as n from outbox`;
      assert.equal(left!.n, 2, "unrelayed rows are kept");
      assert.equal(received.records.length, 0);

      await resumeConnector(infra.connectUrl, f.connector.name);
      await received.waitFor((rs) => rs.length === 2);
      await until("the relay to confirm the rows", async () => {
        await watch.tick();
        return (watch.state.relayedBefore ?? new Date(0)) > newest!.t;
      });
      assert.equal(await purgeOutbox(db, watch.state.relayedBefore!), 2);
    } finally {
      await received.stop();
      await resumeConnector(infra.connectUrl, f.connector.name).catch(() => {});
      await f.drop();
    }
  },
);

Deno.test(
  "an idle relay's slot survives hours' worth of WAL from other databases; one without heartbeats is lost",
  opts,
  async () => {
    const infra = await testInfra();
    const admin = postgres(infra.pgUrl("postgres"), { max: 1, onnotice: () => {} });
    const beating = await createOutboxFixture(infra, "order", { heartbeatMs: 1000 });
    const silent = await createOutboxFixture(infra, "payment", { heartbeatMs: 0 });
    const scratch = `it_wal_${Date.now().toString(36)}`;
    const received = await collect(infra.kafkaBrokers, [beating.topic]);
    try {
      // Compress hours of other databases' traffic: keep only 32 MB of WAL for lagging slots,
      // then write about 100 MB of it elsewhere while both outboxes stay idle.
      await admin`alter system set max_slot_wal_keep_size = '32MB'`;
      await admin`select pg_reload_conf()`;
      await admin`create database ${admin(scratch)}`;
      const other = postgres(infra.pgUrl(scratch), { max: 1, onnotice: () => {} });
      try {
        await other`create table junk (x text)`;
        for (let i = 0; i < 10; i++) {
          await other`insert into junk select repeat(md5(g::text), 32) from generate_series(1, 10000) g`;
          await new Promise((r) => setTimeout(r, 300)); // heartbeats keep coming meanwhile
        }
      } finally {
        await other.end();
      }
      // A slot's restart point moves past WAL once its relay confirmed a later position and
      // PostgreSQL logged a snapshot of running transactions after it (every 15 s while there is
      // activity): the heartbeats give both. Wait for that, then let checkpoints remove old WAL.
      const [wal] = await admin<{ end: string }[]>`select pg_current_wal_lsn()::text as end`;
      const end = parseLsn(wal!.end);
      // Every slot with heartbeats (the test stack's own relay too) must get there first.
      await until(
        "the heartbeating slots' restart points to pass the other database's WAL",
        async () => {
          const rows = await admin<{ restart: string | null }[]>`
          select restart_lsn::text as restart from pg_replication_slots
          where slot_name <> ${silent.connector.slot} and wal_status <> 'lost'`;
          return rows.every((r) => r.restart != null && parseLsn(r.restart) >= end);
        },
        45_000,
      );
      await admin`checkpoint`;
      await admin`checkpoint`;
      const slots = Object.fromEntries(
        (await admin<{ slot_name: string; wal_status: string }[]>`
          select slot_name, wal_status from pg_replication_slots
          where slot_name in (${beating.connector.slot}, ${silent.connector.slot})`)
          .map((r) => [r.slot_name, r.wal_status]),
      );
      assert.notEqual(slots[beating.connector.slot], "lost", "heartbeats kept the slot");
      assert.equal(slots[silent.connector.slot], "lost", "without heartbeats the slot is lost");

      // The readiness check sees the lost slot (Connect may still say RUNNING).
      const silentWatch = new RelayWatch(silent.sql as never, silent.connector.slot);
      const state = await silentWatch.tick();
      assert.equal(state.slot, "lost");
      assert.match(
        relayProblem(state, { maxLagMs: 60_000, startedAt: Date.now() })!,
        /invalidated/,
      );

      // The idle outbox still relays.
      const row = randomRow(beating.topic);
      await beating.sql.begin((tx) => flushOutbox(tx as never, [row]));
      await received.waitFor((rs) => rs.some((r) => r.headers.id === row.id));

      // An event written while the slot is lost is not lost with it: service-init repairs the
      // relay (a new slot, then every row still in the outbox published again).
      const stranded = randomRow(silent.topic);
      await silent.sql.begin((tx) => flushOutbox(tx as never, [stranded]));
      const late = await collect(infra.kafkaBrokers, [silent.topic]);
      try {
        const again = await serviceInit("payment", {
          adminUrl: infra.pgUrl("postgres"),
          connectUrl: infra.connectUrl,
          kafkaBrokers: infra.kafkaBrokers,
          migrationsDir: silent.migrationsDir,
          placement: silent.report.placement,
          relay: silent.connector,
          heartbeatMs: 0,
        });
        assert.equal(again.connector?.action, "repaired");
        await late.waitFor((rs) => rs.some((r) => r.headers.id === stranded.id));
        assert.equal((await silentWatch.tick()).slot, "ok");
      } finally {
        await late.stop();
      }
    } finally {
      await received.stop();
      await admin`alter system reset max_slot_wal_keep_size`.catch(() => {});
      await admin`select pg_reload_conf()`.catch(() => {});
      await admin`drop database if exists ${admin(scratch)} with (force)`.catch(() => {});
      await admin.end();
      await beating.drop();
      await silent.drop();
    }
  },
);
