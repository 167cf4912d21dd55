import assert from "node:assert/strict";
import { EdgeError } from "./errors.ts";
import { upstreamLimits } from "./upstream_limit.ts";

/** A call that ends when its release is called. */
function held(): { call: () => Promise<string>; release: (v: string) => void; started: boolean } {
  let release!: (v: string) => void;
  const h = {
    started: false,
    release: (v: string) => release(v),
    call: () => {
      h.started = true;
      return new Promise<string>((r) => release = r);
    },
  };
  return h;
}

Deno.test("upstream limits: calls past the bound wait in line, in order, and each place passes on", async () => {
  const limits = upstreamLimits({ maxRequests: 2, maxPending: 2 });
  const calls = [held(), held(), held(), held()];
  const results = calls.map((c) => limits.run("order", 10_000, c.call));
  await Promise.resolve();
  assert.deepEqual(calls.map((c) => c.started), [true, true, false, false]);
  assert.deepEqual(limits.usage("order"), { active: 2, pending: 2 });
  calls[1]!.release("b");
  assert.equal(await results[1], "b");
  assert.deepEqual(calls.map((c) => c.started), [true, true, true, false], "the first in line");
  calls[0]!.release("a");
  calls[2]!.release("c");
  await Promise.all([results[0], results[2]]);
  assert.ok(calls[3]!.started);
  calls[3]!.release("d");
  assert.deepEqual(await Promise.all(results), ["a", "b", "c", "d"]);
  assert.deepEqual(limits.usage("order"), { active: 0, pending: 0 });
});

Deno.test("upstream limits: a full line is refused at once with 503 and Retry-After; other services are not", async () => {
  const limits = upstreamLimits({ maxRequests: 1, maxPending: 1 });
  const a = held();
  const b = held();
  const first = limits.run("order", 10_000, a.call);
  const second = limits.run("order", 10_000, b.call);
  await assert.rejects(limits.run("order", 10_000, () => Promise.resolve("never")), (e) => {
    assert.ok(e instanceof EdgeError);
    assert.equal(e.status, 503);
    assert.equal(e.retryAfterSeconds, 1);
    assert.match(e.message, /order is at capacity \(1 calls in progress, 1 waiting\)/);
    return true;
  });
  assert.equal(
    await limits.run("product", 10_000, () => Promise.resolve("own bound")),
    "own bound",
  );
  a.release("a");
  await first;
  b.release("b");
  assert.equal(await second, "b");
});

Deno.test("upstream limits: a call that failed gives its place back; a wait past the timeout is 504", async () => {
  const limits = upstreamLimits({ maxRequests: 1, maxPending: 4 });
  await assert.rejects(
    limits.run("order", 10_000, () => Promise.reject(new Error("boom"))),
    /boom/,
  );
  assert.deepEqual(limits.usage("order"), { active: 0, pending: 0 });
  const a = held();
  const first = limits.run("order", 10_000, a.call);
  await assert.rejects(limits.run("order", 30, () => Promise.resolve("late")), (e) => {
    assert.ok(e instanceof EdgeError);
    assert.equal(e.status, 504);
    return true;
  });
  assert.deepEqual(limits.usage("order"), { active: 1, pending: 0 }, "left the line");
  a.release("a");
  assert.equal(await first, "a");
  assert.deepEqual(limits.usage("order"), { active: 0, pending: 0 });
});
