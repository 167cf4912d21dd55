import assert from "node:assert/strict";
import type { Sql } from "@stocklet/shared/db";
import { Code, type ServiceError } from "@stocklet/shared/errors";
import { Admission } from "./admission.ts";

/** A database whose count of in-flight orders is whatever the test says. */
function counting(n: { value: number }): Sql {
  return (() => Promise.resolve([{ n: n.value }])) as unknown as Sql;
}

function refused(a: Admission): ServiceError | undefined {
  try {
    a.admit();
    return undefined;
  } catch (e) {
    return e as ServiceError;
  }
}

Deno.test("Admission admits orders up to the bound, then refuses with 429 and Retry-After", async () => {
  const inDb = { value: 8 };
  const a = new Admission(counting(inDb), { maxInFlight: 10 });
  await a.refresh();
  assert.equal(refused(a), undefined);
  assert.equal(refused(a), undefined);
  const e = refused(a);
  assert.equal(e?.code, Code.RESOURCE_EXHAUSTED);
  assert.equal(e?.retryAfterSeconds, 1);
  assert.equal(e?.atCapacity, true, "the service, not the caller: the edge may shed the route");
  assert.match(e?.message ?? "", /too many orders in progress \(10\)/);
});

Deno.test("Admission counts orders placed between two reads, and lets new ones in as sagas end", async () => {
  const inDb = { value: 0 };
  const a = new Admission(counting(inDb), { maxInFlight: 3 });
  await a.refresh();
  for (let i = 0; i < 3; i++) assert.equal(refused(a), undefined);
  assert.ok(refused(a), "the burst cannot pass the bound before the next read");
  inDb.value = 1; // two of the three finished meanwhile
  await a.refresh();
  assert.equal(a.inFlight, 1);
  assert.equal(refused(a), undefined);
});

Deno.test("Admission with no bound admits everything", async () => {
  const a = new Admission(counting({ value: 1e6 }), { maxInFlight: 0 });
  await a.refresh();
  assert.equal(refused(a), undefined);
});
