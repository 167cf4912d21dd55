import assert from "node:assert/strict";
import { metricsEnabled, Refreshed } from "./meter.ts";
import { lagOf } from "./kafka_lag.ts";
import { codeName, isServerError, rpcAttributes } from "./rpc.ts";

Deno.test("metricsEnabled() needs OTel on and STOCKLET_METRICS not off", () => {
  assert.equal(metricsEnabled({ OTEL_DENO: "true" }), true);
  assert.equal(metricsEnabled({ OTEL_DENO: "true", STOCKLET_METRICS: "" }), true);
  assert.equal(metricsEnabled({ OTEL_DENO: "true", STOCKLET_METRICS: "off" }), false);
  assert.equal(metricsEnabled({}), false);
});

Deno.test("Refreshed reads at most once per interval, one fetch at a time", async () => {
  let now = 0;
  let fetches = 0;
  let release!: () => void;
  const r = new Refreshed(
    async () => {
      fetches++;
      await new Promise<void>((res) => (release = res));
      return fetches;
    },
    5000,
    () => {},
    () => now,
  );
  assert.equal(r.read(), undefined); // starts the first fetch
  assert.equal(r.read(), undefined); // one at a time
  assert.equal(fetches, 1);
  release();
  await new Promise((res) => setTimeout(res, 0));
  now = 4000;
  assert.equal(r.read(), 1); // fresh enough: no fetch
  assert.equal(fetches, 1);
  now = 5000;
  assert.equal(r.read(), 1); // stale: refreshes in the background, answers the last value
  assert.equal(fetches, 2);
  release();
});

Deno.test("lagOf() is end − committed per partition, from the start when nothing is committed", () => {
  const lags = lagOf(
    [{ topic: "t", partitions: [{ partition: 0, offset: "7" }, { partition: 1, offset: "-1" }] }],
    new Map([["t", [{ partition: 0, high: "10", low: "0" }, {
      partition: 1,
      high: "5",
      low: "2",
    }]]]),
  );
  assert.deepEqual(lags, [
    { topic: "t", partition: 0, end: 10, committed: 7, lag: 3 },
    { topic: "t", partition: 1, end: 5, committed: -1, lag: 3 },
  ]);
});

Deno.test("rpcAttributes() names the status, and marks only server-side failures as errors", () => {
  assert.equal(codeName(5), "NOT_FOUND");
  assert.equal(isServerError(13), true);
  assert.equal(isServerError(5), false);
  assert.deepEqual(rpcAttributes("grpc", "a.B/C", 0), {
    "rpc.system.name": "grpc",
    "rpc.method": "a.B/C",
    "rpc.response.status_code": "OK",
  });
  assert.equal(rpcAttributes("http", "a.B/C", 13)["error.type"], "INTERNAL");
  // The same set object each time: recording allocates nothing.
  assert.equal(rpcAttributes("http", "a.B/C", 13), rpcAttributes("http", "a.B/C", 13));
});
