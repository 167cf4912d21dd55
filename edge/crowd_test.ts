import assert from "node:assert/strict";
import { connectionCrowd } from "./crowd.ts";

const addr = (port: number, hostname = "10.0.0.1"): Deno.NetAddr => ({
  transport: "tcp",
  hostname,
  port,
});

Deno.test("crowd: crowded only above the bound of distinct connections", () => {
  const crowd = connectionCrowd({ bound: 3, now: () => 0 });
  for (let i = 0; i < 10; i++) crowd.seen(addr(5000)); // one connection, many requests
  crowd.seen(addr(5001));
  crowd.seen(addr(5000, "10.0.0.2")); // another client with the same port
  assert.equal(crowd.crowded(), false, "three in use");
  crowd.seen(addr(5002));
  assert.equal(crowd.crowded(), true, "four in use");
});

Deno.test("crowd: a connection counts for the window after its last request, then not", () => {
  let t = 0;
  const crowd = connectionCrowd({ bound: 1, windowMs: 1000, now: () => t });
  crowd.seen(addr(1));
  t = 900;
  crowd.seen(addr(2));
  assert.equal(crowd.crowded(), true);
  // Past the first window: both were seen in the one before, so both still count.
  t = 1500;
  assert.equal(crowd.crowded(), true);
  crowd.seen(addr(2));
  // Two windows on: only the one seen since counts.
  t = 2100;
  assert.equal(crowd.crowded(), false);
  // A long quiet spell forgets everything.
  t = 10_000;
  assert.equal(crowd.crowded(), false);
  crowd.seen(addr(3));
  crowd.seen(addr(4));
  assert.equal(crowd.crowded(), true);
});

Deno.test("crowd: bound 0 is always crowded; requests without a TCP address are not counted", () => {
  assert.equal(connectionCrowd({ bound: 0 }).crowded(), true);
  const crowd = connectionCrowd({ bound: 1, now: () => 0 });
  crowd.seen(undefined);
  crowd.seen({ transport: "unix", path: "/tmp/edge.sock" });
  crowd.seen({ transport: "unix", path: "/tmp/edge.sock" });
  assert.equal(crowd.crowded(), false);
});
