import assert from "node:assert/strict";
import { Balancer, connectionRefused } from "./balancer.ts";

Deno.test("Balancer goes round robin and skips a replica that refused, for a while", () => {
  let now = 0;
  const b = new Balancer(["http://a/", "http://b", "http://c"], {
    downForMs: 1000,
    now: () => now,
  });
  assert.deepEqual([b.next(), b.next(), b.next(), b.next()], [
    "http://a",
    "http://b",
    "http://c",
    "http://a",
  ]);
  b.refused("http://b");
  assert.deepEqual([b.next(), b.next(), b.next()], ["http://c", "http://a", "http://c"]);
  now = 1001; // b is tried again
  assert.deepEqual([b.next(), b.next()], ["http://a", "http://b"]);
  assert.equal(b.attempts, 3);
});

Deno.test("Balancer with every replica down still answers one (the caller's error then says why)", () => {
  const b = new Balancer(["http://a", "http://b"], { now: () => 0 });
  b.refused("http://a");
  b.refused("http://b");
  assert.ok(["http://a", "http://b"].includes(b.next()));
  assert.throws(() => new Balancer([]), /at least one URL/);
});

Deno.test("connectionRefused() recognises a refused connection, however it is wrapped", () => {
  const refused = new TypeError("error sending request", {
    cause: new Error("tcp connect error: Connection refused (os error 111)"),
  });
  assert.equal(connectionRefused(refused), true);
  assert.equal(connectionRefused(new Error("connection reset by peer")), false);
  assert.equal(connectionRefused(undefined), false);
});
