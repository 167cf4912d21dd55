import assert from "node:assert/strict";
import { liveHub } from "./live.ts";

Deno.test("liveHub() nudges only the watchers of the announced order, until they stop", () => {
  const hub = liveHub();
  const seen: string[] = [];
  const stopA = hub.watch("a", () => seen.push("a1"));
  hub.watch("a", () => seen.push("a2"));
  hub.watch("b", () => seen.push("b"));
  assert.equal(hub.watching(), 2);
  hub.announce("a");
  assert.deepEqual(seen, ["a1", "a2"]);
  stopA();
  hub.announce("a");
  hub.announce("c");
  assert.deepEqual(seen, ["a1", "a2", "a2"]);
  hub.nudgeAll();
  assert.deepEqual(seen, ["a1", "a2", "a2", "a2", "b"]);
});

Deno.test("liveHub() survives a watcher that throws, and stop() ends everything", async () => {
  const hub = liveHub();
  let calls = 0;
  hub.watch("a", () => {
    throw new Error("boom");
  });
  hub.watch("a", () => calls++);
  hub.announce("a");
  assert.equal(calls, 1);
  assert.equal(hub.stopped.aborted, false);
  await hub.stop();
  assert.equal(hub.stopped.aborted, true);
  assert.equal(hub.watching(), 0);
});
