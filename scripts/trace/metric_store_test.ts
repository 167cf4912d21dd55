import assert from "node:assert/strict";
import { type ExportMetricsRequest, MetricStore } from "./metric_store.ts";

const kv = (key: string, v: string | number) => ({
  key,
  value: typeof v === "string" ? { stringValue: v } : { intValue: String(v) },
});

/** An export as Deno sends it (OTLP/HTTP JSON, cumulative). */
function exportAt(ms: number, count: number): ExportMetricsRequest {
  const ns = String(BigInt(ms) * 1_000_000n);
  return {
    resourceMetrics: [{
      resource: { attributes: [kv("service.name", "order")] },
      scopeMetrics: [{
        scope: { name: "stocklet" },
        metrics: [
          {
            name: "stocklet.saga.started",
            unit: "{order}",
            sum: {
              isMonotonic: true,
              dataPoints: [{
                attributes: [],
                startTimeUnixNano: "1000000",
                timeUnixNano: ns,
                asDouble: count,
              }],
            },
          },
          {
            name: "rpc.server.call.duration",
            unit: "s",
            histogram: {
              dataPoints: [{
                attributes: [kv("rpc.method", "a/B"), kv("rpc.response.status_code", "OK")],
                timeUnixNano: ns,
                count: String(count),
                sum: count * 0.01,
                bucketCounts: [String(count), "0"],
                explicitBounds: [0.05],
              }],
            },
          },
          {
            name: "stocklet.consumer.lag",
            unit: "{message}",
            gauge: { dataPoints: [{ attributes: [kv("p", 0)], timeUnixNano: ns, asInt: "7" }] },
          },
        ],
      }],
    }],
  };
}

Deno.test("MetricStore keeps each series' points and answers queries by name and window", () => {
  let now = 10_000;
  const store = new MetricStore({ now: () => now, retentionMs: 60_000 });
  store.add(exportAt(10_000, 1));
  now = 12_000;
  store.add(exportAt(12_000, 3));
  store.add(exportAt(12_000, 3)); // a repeated export adds nothing
  assert.equal(store.size, 3);
  assert.equal(store.received, 3);

  const [started] = store.query({ names: ["stocklet.saga.started"] });
  assert.equal(started!.service, "order");
  assert.equal(started!.kind, "sum");
  assert.equal(started!.monotonic, true);
  assert.deepEqual(started!.points.map((p) => p.v), [1, 3]);
  assert.equal(started!.points[0]!.s, 1);

  const [rpc] = store.query({ names: ["rpc.server.call.duration"], windowMs: 1000 });
  // The window holds the last point and the one before it (the window's start).
  assert.equal(rpc!.points.length, 2);
  assert.deepEqual(rpc!.points.at(-1)!.h, { count: 3, sum: 0.03, bounds: [0.05], buckets: [3, 0] });
  assert.deepEqual(rpc!.attributes, { "rpc.method": "a/B", "rpc.response.status_code": "OK" });

  const [lag] = store.query({ names: ["stocklet.consumer.lag"] });
  assert.equal(lag!.kind, "gauge");
  assert.equal(lag!.points.at(-1)!.v, 7);
  assert.deepEqual(store.query({ service: "payment" }), []);
});

Deno.test("MetricStore forgets points past its retention, and series that stopped", () => {
  let now = 0;
  const store = new MetricStore({ now: () => now, retentionMs: 5_000 });
  for (let t = 1000; t <= 20_000; t += 1000) {
    now = t;
    store.add(exportAt(t, t / 1000));
  }
  const [s] = store.query({ names: ["stocklet.saga.started"], windowMs: 100_000 });
  assert.ok(s!.points.length <= 7, `kept ${s!.points.length} points`);
  now = 40_000;
  store.add({ resourceMetrics: [] });
  assert.equal(store.size, 0);
});

Deno.test("MetricStore keeps replicas apart by service.instance.id and says which is which", () => {
  const store = new MetricStore({ now: () => 10_000 });
  for (const [instance, v] of [["order", 1], ["order@1", 2]] as const) {
    const req = exportAt(10_000, v);
    req.resourceMetrics![0]!.resource!.attributes!.push(kv("service.instance.id", instance));
    store.add(req);
  }
  const started = store.query({ names: ["stocklet.saga.started"] });
  assert.deepEqual(
    started.map((s) => [s.instance, s.points.at(-1)!.v]).sort(),
    [["order", 1], ["order@1", 2]],
  );
});

Deno.test("MetricStore marks a series that appears after its process's first export as late", () => {
  const store = new MetricStore({ now: () => 20_000 });
  const first = exportAt(10_000, 1);
  // The first export lacks the lag gauge; the second brings it.
  const metrics = first.resourceMetrics![0]!.scopeMetrics![0]!.metrics!;
  first.resourceMetrics![0]!.scopeMetrics![0]!.metrics = metrics.filter((m) =>
    m.name !== "stocklet.consumer.lag"
  );
  store.add(first);
  store.add(exportAt(12_000, 2));
  const late = (name: string) => store.query({ names: [name] })[0]!.late ?? false;
  assert.equal(late("stocklet.saga.started"), false, "there from the process's first export");
  assert.equal(late("stocklet.consumer.lag"), true);
});
