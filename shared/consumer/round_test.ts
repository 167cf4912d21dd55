import assert from "node:assert/strict";
import type { Outcome } from "./apply.ts";
import type { Delivery } from "./delivery.ts";
import { RoundCollector } from "./round.ts";

function d(partition: number, offset: number): Delivery {
  return { topic: "t", partition, offset: String(offset), key: null, value: null, headers: {} };
}

Deno.test("RoundCollector applies what is submitted in one tick as one round and answers each submitter with its own outcomes", async () => {
  const calls: string[][] = [];
  const rounds = new RoundCollector((ds) => {
    calls.push(ds.map((x) => `${x.partition}@${x.offset}`));
    return Promise.resolve(ds.map((x): Outcome => ({ kind: "skipped", reason: x.offset })));
  });
  const [a, b] = await Promise.all([
    rounds.submit([d(0, 1), d(0, 2)]),
    rounds.submit([d(1, 7)]),
  ]);
  assert.deepEqual(calls, [["0@1", "0@2", "1@7"]]);
  assert.deepEqual(a!.map((o) => (o as { reason: string }).reason), ["1", "2"]);
  assert.deepEqual(b!.map((o) => (o as { reason: string }).reason), ["7"]);
  // A later tick is a new round.
  await rounds.submit([d(2, 9)]);
  assert.deepEqual(calls.at(-1), ["2@9"]);
});

Deno.test("RoundCollector cuts a backlog into chunks, and aborts what follows a chunk cut short", async () => {
  const calls: number[] = [];
  const rounds = new RoundCollector((ds) => {
    calls.push(ds.length);
    // The second chunk is cut short by shutdown.
    const abort = calls.length === 2;
    return Promise.resolve(
      ds.map((): Outcome => abort ? { kind: "aborted" } : { kind: "applied" }),
    );
  }, 2);
  const out = await rounds.submit([d(0, 1), d(0, 2), d(0, 3), d(0, 4), d(0, 5)]);
  assert.deepEqual(calls, [2, 2], "the third chunk never ran");
  assert.deepEqual(out.map((o) => o.kind), ["applied", "applied", "aborted", "aborted", "aborted"]);
});

Deno.test("RoundCollector rejects every submitter when applying throws", async () => {
  const rounds = new RoundCollector(() => Promise.reject(new Error("bug")));
  const results = await Promise.allSettled([rounds.submit([d(0, 1)]), rounds.submit([d(1, 1)])]);
  assert.deepEqual(results.map((r) => r.status), ["rejected", "rejected"]);
});
