import assert from "node:assert/strict";
import type { Sql } from "@stocklet/shared/db";
import { Code, type ServiceError } from "@stocklet/shared/errors";
import { Admission } from "./admission.ts";

/** A database whose count of in-flight orders is whatever the test says (reads counted). */
function counting(n: { value: number; reads?: number }): Sql {
  return (() => {
    n.reads = (n.reads ?? 0) + 1;
    return Promise.resolve([{ n: n.value }]);
  }) as unknown as Sql;
}

async function refused(a: Admission): Promise<ServiceError | undefined> {
  try {
    await a.admit();
    return undefined;
  } catch (e) {
    return e as ServiceError;
  }
}

Deno.test("Admission admits orders up to the bound, then refuses with 429 and Retry-After", async () => {
  const inDb = { value: 8 };
  const a = new Admission(counting(inDb), { maxInFlight: 10, now: () => 0 });
  await a.refresh();
  assert.equal(await refused(a), undefined);
  assert.equal(await refused(a), undefined);
  const e = await refused(a);
  assert.equal(e?.code, Code.RESOURCE_EXHAUSTED);
  assert.equal(e?.retryAfterSeconds, 1);
  assert.equal(e?.atCapacity, true, "the service, not the caller: the edge may shed the route");
  assert.match(e?.message ?? "", /too many orders in progress \(10\)/);
});

Deno.test("Admission counts orders placed between two reads, and lets new ones in as sagas end", async () => {
  const inDb = { value: 0 };
  // A clock that never moves: the count read first stays fresh, so no call reads it again.
  const a = new Admission(counting(inDb), { maxInFlight: 3, now: () => 0 });
  await a.refresh();
  for (let i = 0; i < 3; i++) assert.equal(await refused(a), undefined);
  inDb.value = 3;
  assert.ok(await refused(a), "the burst cannot pass the bound before the next read");
  inDb.value = 1; // two of the three finished meanwhile
  await a.refresh();
  assert.equal(a.inFlight, 1);
  assert.equal(await refused(a), undefined);
});

Deno.test("Admission decides at the bound on a fresh read, at most one per freshMs", async () => {
  const inDb: { value: number; reads?: number } = { value: 0 };
  const clock = { ms: 0 };
  const a = new Admission(counting(inDb), { maxInFlight: 4, freshMs: 10, now: () => clock.ms });
  await a.refresh();
  for (let i = 0; i < 4; i++) assert.equal(await refused(a), undefined);
  assert.equal(inDb.reads, 1, "below the bound, no read");
  // Two of the four sagas ended since the read: the stale sum (4) would refuse.
  inDb.value = 2;
  assert.ok(await refused(a), "a read within freshMs is trusted");
  assert.equal(inDb.reads, 1);
  clock.ms = 11;
  assert.equal(await refused(a), undefined, "admitted on a fresh read: 2 + this one");
  assert.equal(inDb.reads, 2);
  assert.equal(await refused(a), undefined);
  const e = await refused(a);
  assert.match(e?.message ?? "", /\(4\)/, "refused on the fresh read plus the two placed since");
  assert.equal(inDb.reads, 2);
  // Concurrent calls at the bound share one read.
  clock.ms = 30;
  inDb.value = 0;
  const outcomes = await Promise.all([refused(a), refused(a), refused(a), refused(a), refused(a)]);
  assert.equal(inDb.reads, 3);
  assert.deepEqual(outcomes.map((o) => o === undefined), [true, true, true, true, false]);
});

Deno.test("Admission refuses on the count it has when a read fails", async () => {
  let fail = false;
  const db =
    (() =>
      fail
        ? Promise.reject(new Error("connection refused"))
        : Promise.resolve([{ n: 2 }])) as unknown as Sql;
  const clock = { ms: 0 };
  const a = new Admission(db, { maxInFlight: 2, now: () => clock.ms });
  await a.refresh();
  fail = true;
  clock.ms = 100;
  assert.equal((await refused(a))?.code, Code.RESOURCE_EXHAUSTED);
});

Deno.test("Admission with no bound admits everything", async () => {
  const a = new Admission(counting({ value: 1e6 }), { maxInFlight: 0 });
  await a.refresh();
  assert.equal(await refused(a), undefined);
});

Deno.test("Admission keeps counting an order whose insert has not committed when the count is read", async () => {
  const inDb = { value: 0 };
  const a = new Admission(counting(inDb), { maxInFlight: 2, now: () => 0 });
  await a.refresh();
  let commit = () => {};
  const placing = a.place(() => new Promise<void>((r) => (commit = r)));
  await Promise.resolve(); // admitted, its insert still running
  await a.refresh(); // the database does not see it yet
  assert.equal(a.inFlight, 1, "not lost by the read");
  inDb.value = 1;
  commit();
  await placing;
  await a.refresh();
  assert.equal(a.inFlight, 1, "committed: counted by the database alone");
  assert.equal(await refused(a), undefined);
  assert.equal((await refused(a))?.code, Code.RESOURCE_EXHAUSTED);
});
