import assert from "node:assert/strict";
import { join } from "node:path";
import postgres from "postgres";
import { ensureInfra } from "../infra/mod.ts";
import { forceVersion, migrate, migrationConnection, readState } from "./migrate.ts";
import {
  collectMigrations,
  loadMigrations,
  MigrationError,
  parseMigrationFileName,
  planDown,
  planUp,
} from "./migrations.ts";

Deno.test("parseMigrationFileName() reads version, name and direction; ignores other files", () => {
  assert.deepEqual(parseMigrationFileName("000001_outbox.up.sql"), {
    version: 1,
    name: "outbox",
    direction: "up",
  });
  assert.deepEqual(parseMigrationFileName("20240101120000_add-index.down.sql"), {
    version: 20240101120000,
    name: "add-index",
    direction: "down",
  });
  for (const f of ["README.md", "000001_outbox.sql", "x_outbox.up.sql", "000000_zero.up.sql"]) {
    assert.equal(parseMigrationFileName(f), undefined, f);
  }
});

Deno.test("collectMigrations() orders by numeric version and pairs up/down files", () => {
  const ms = collectMigrations([
    "10_ten.up.sql",
    "9_nine.down.sql",
    "9_nine.up.sql",
    "000001_one.up.sql",
    "notes.txt",
  ]);
  assert.deepEqual(ms.map((m) => m.version), [1, 9, 10]);
  assert.equal(ms[1]!.down, "9_nine.down.sql");
  assert.equal(ms[0]!.down, undefined);
});

Deno.test("collectMigrations() rejects duplicates and a down without an up", () => {
  assert.throws(() => collectMigrations(["1_a.up.sql", "1_b.up.sql"]), /two names/);
  assert.throws(() => collectMigrations(["1_a.up.sql", "01_a.up.sql"]), /two up files/);
  assert.throws(() => collectMigrations(["1_a.down.sql"]), /no \.up\.sql/);
});

Deno.test("loadMigrations() of a missing folder is empty (auth before it has migrations)", async () => {
  assert.deepEqual(await loadMigrations("/nonexistent/stocklet/migrations/auth"), []);
});

const three = collectMigrations([
  "1_a.up.sql",
  "1_a.down.sql",
  "2_b.up.sql",
  "2_b.down.sql",
  "3_c.up.sql",
]);

Deno.test("planUp() applies what is newer than the current version", () => {
  assert.deepEqual(planUp(three, { version: null, dirty: false }, "x").map((m) => m.version), [
    1,
    2,
    3,
  ]);
  assert.deepEqual(planUp(three, { version: 2, dirty: false }, "x").map((m) => m.version), [3]);
  assert.deepEqual(planUp(three, { version: 3, dirty: false }, "x"), []);
});

Deno.test("planUp() refuses a dirty database and a version it has no file for", () => {
  assert.throws(
    () => planUp(three, { version: 2, dirty: true }, "order"),
    (e: unknown) =>
      e instanceof MigrationError &&
      /^migration 2 of order is dirty/.test(e.message) &&
      e.message.includes("--force"),
  );
  assert.throws(() => planUp(three, { version: 7, dirty: false }, "order"), /not among its files/);
});

Deno.test("planDown() steps back with the previous version as target", () => {
  const steps = planDown(three.slice(0, 2), { version: 2, dirty: false }, 5, "x");
  assert.deepEqual(steps.map((s) => [s.migration.version, s.target]), [[2, 1], [1, null]]);
  assert.throws(() => planDown(three, { version: 3, dirty: false }, 1, "x"), /no \.down\.sql/);
});

async function withDb(fn: (url: string, dir: string) => Promise<void>): Promise<void> {
  const infra = await ensureInfra("test");
  const name = `it_migrate_${crypto.randomUUID().slice(0, 8)}`;
  const admin = postgres(infra.pgUrl("postgres"), { max: 1, onnotice: () => {} });
  const dir = await Deno.makeTempDir({ prefix: "stocklet-mig-" });
  await admin`create database ${admin(name)}`;
  try {
    await fn(infra.pgUrl(name), dir);
  } finally {
    await admin`drop database if exists ${admin(name)} with (force)`;
    await admin.end();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("migrate() applies in order, once; a failure leaves it dirty and refusing", async () => {
  await withDb(async (url, dir) => {
    await Deno.writeTextFile(join(dir, "000001_t.up.sql"), "create table t (x int);");
    await Deno.writeTextFile(join(dir, "000001_t.down.sql"), "drop table t;");
    await Deno.writeTextFile(
      join(dir, "000002_u.up.sql"),
      "insert into t values (1);\ninsert into t values (2);",
    );
    await Deno.writeTextFile(join(dir, "000002_u.down.sql"), "delete from t;");
    const sql = migrationConnection(url);
    try {
      const first = await migrate(sql, "svc", await loadMigrations(dir));
      assert.deepEqual(first, { from: null, to: 2, applied: [1, 2], direction: "up" });
      const second = await migrate(sql, "svc", await loadMigrations(dir));
      assert.deepEqual(second, { from: 2, to: 2, applied: [], direction: "up" });
      assert.equal((await sql`select count(*)::int as n from t`)[0]!.n, 2);

      // A failing migration rolls back its own work but stays marked dirty.
      await Deno.writeTextFile(
        join(dir, "000003_bad.up.sql"),
        "insert into t values (3);\nselect nonsense from nowhere;",
      );
      await assert.rejects(migrate(sql, "svc", await loadMigrations(dir)), /000003_bad|3_bad/);
      assert.deepEqual(await readState(sql), { version: 3, dirty: true });
      assert.equal((await sql`select count(*)::int as n from t`)[0]!.n, 2);
      await assert.rejects(
        migrate(sql, "svc", await loadMigrations(dir)),
        /migration 3 of svc is dirty/,
      );

      // The human fixes the file, records the real version, and runs again.
      await Deno.writeTextFile(join(dir, "000003_bad.up.sql"), "insert into t values (3);");
      await forceVersion(sql, 2);
      const third = await migrate(sql, "svc", await loadMigrations(dir));
      assert.deepEqual(third.applied, [3]);
      assert.deepEqual(await readState(sql), { version: 3, dirty: false });

      await Deno.remove(join(dir, "000003_bad.up.sql"));
      await forceVersion(sql, 2);
      const down = await migrate(sql, "svc", await loadMigrations(dir), { down: 2 });
      assert.deepEqual(down, { from: 2, to: null, applied: [2, 1], direction: "down" });
      assert.deepEqual(await readState(sql), { version: null, dirty: false });
      assert.equal((await sql`select to_regclass('t') as r`)[0]!.r, null);
    } finally {
      await sql.end();
    }
  });
});
