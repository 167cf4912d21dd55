import assert from "node:assert/strict";
import { AttemptTimeout, isTransient, retrying } from "./retry.ts";

const hooks = (log: unknown[]) => ({
  stopping: () => false,
  sleep: () => Promise.resolve(),
  onRetry: (err: unknown, attempt: number, transient: boolean) =>
    log.push([err, attempt, transient]),
});

Deno.test("retrying: an attempt that never settles is abandoned and tried again", async () => {
  const log: unknown[] = [];
  let calls = 0;
  const r = await retrying(
    () => ++calls === 1 ? new Promise<string>(() => {}) : Promise.resolve("applied"),
    { attemptTimeoutMs: 20 },
    hooks(log),
  );
  assert.deepEqual(r, { kind: "done", value: "applied" });
  assert.equal(calls, 2);
  assert.equal(log.length, 1);
  const [err, attempt, transient] = log[0] as [unknown, number, boolean];
  assert.ok(err instanceof AttemptTimeout);
  assert.deepEqual([attempt, transient], [1, true]);
});

Deno.test("retrying: a timed-out attempt does not count towards the dead-letter limit", async () => {
  let calls = 0;
  const r = await retrying(
    () => ++calls <= 3 ? new Promise<string>(() => {}) : Promise.resolve("applied"),
    { attemptTimeoutMs: 5, maxAttempts: 2 },
    hooks([]),
  );
  assert.equal(r.kind, "done");
  assert.ok(isTransient(new AttemptTimeout(5)));
});

Deno.test("retrying: a late failure of an abandoned attempt is swallowed", async () => {
  let calls = 0;
  const r = await retrying(
    () =>
      ++calls === 1
        ? new Promise<string>((_, reject) => setTimeout(() => reject(new Error("late")), 30))
        : Promise.resolve("applied"),
    { attemptTimeoutMs: 5 },
    hooks([]),
  );
  assert.equal(r.kind, "done");
  await new Promise((resolve) => setTimeout(resolve, 50)); // the late rejection has happened
});
