/** Waiting in the Kubernetes init entries: what they say while a condition does not hold. */
import assert from "node:assert/strict";
import { waitUntil } from "./init_run.ts";

Deno.test("init entries wait until the check holds, saying what is missing or what failed", async () => {
  const answers: Array<true | string | Error> = [
    new Error("connection refused"),
    "waiting for order.outbox",
    true,
  ];
  const said: string[] = [];
  let calls = 0;
  await waitUntil((line) => said.push(line), () => {
    const a = answers[calls++]!;
    return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
  }, { intervalMs: 1, reportMs: 0 });
  assert.equal(calls, 3, "it stops at the first true");
  assert.equal(said.length, 2);
  assert.match(said[0]!, /^connection refused \(after \d+ s\)$/);
  assert.match(said[1]!, /^waiting for order\.outbox \(after \d+ s\)$/);
});
