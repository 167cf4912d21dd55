import assert from "node:assert/strict";
import type { Series } from "../trace/metric_store.ts";
import { plain, renderTop } from "./render.ts";
import { styledRuns, terminalSvg } from "./svg.ts";
import { topView } from "./view.ts";

const base = { scope: "stocklet", unit: "", monotonic: true };
const hist = (counts: [number, number], t: number) => ({
  t,
  s: -100_000,
  h: { count: counts[0] + counts[1], sum: 0, bounds: [0.1], buckets: counts },
});

/** Ten seconds of a small stack: the edge, order (with a consumer) and the saga. */
const series: Series[] = [
  {
    ...base,
    service: "edge",
    name: "http.server.request.duration",
    kind: "histogram",
    attributes: { "http.route": "/v1/order/place" },
    points: [hist([0, 0], 0), hist([100, 0], 10_000)],
  },
  {
    ...base,
    service: "order",
    name: "rpc.server.call.duration",
    kind: "histogram",
    attributes: { "rpc.response.status_code": "OK" },
    points: [hist([0, 0], 0), hist([95, 0], 10_000)],
  },
  {
    ...base,
    service: "order",
    name: "rpc.server.call.duration",
    kind: "histogram",
    attributes: { "rpc.response.status_code": "INTERNAL", "error.type": "INTERNAL" },
    points: [hist([0, 0], 0), hist([0, 5], 10_000)],
  },
  {
    ...base,
    service: "order",
    name: "stocklet.consumer.lag",
    kind: "gauge",
    monotonic: false,
    attributes: { "messaging.destination.name": "payment.processing" },
    points: [{ t: 10_000, v: 12 }],
  },
  {
    ...base,
    service: "order",
    name: "messaging.client.consumed.messages",
    kind: "sum",
    attributes: { "stocklet.outcome": "dead_lettered" },
    points: [{ t: 0, v: 1, s: -100_000 }, { t: 10_000, v: 2, s: -100_000 }],
  },
  {
    ...base,
    service: "order",
    name: "stocklet.saga.completed",
    kind: "sum",
    attributes: { "stocklet.saga.outcome": "rejected", "stocklet.saga.reason": "timeout" },
    points: [{ t: 0, v: 0, s: -100_000 }, { t: 10_000, v: 20, s: -100_000 }],
  },
  {
    ...base,
    service: "order",
    name: "stocklet.saga.duration",
    kind: "histogram",
    attributes: { "stocklet.saga.outcome": "rejected" },
    points: [hist([0, 0], 0), hist([20, 0], 10_000)],
  },
];

Deno.test("topView() computes per service rates, failures, p99, lag and dead letters", () => {
  const v = topView(series, 10_000, 10_000);
  assert.deepEqual(v.services.map((s) => s.service), ["edge", "order"]);
  const [edge, order] = v.services;
  assert.equal(edge!.reqPerS, 10);
  assert.equal(order!.reqPerS, 10);
  assert.equal(order!.errPct, 5);
  assert.equal(order!.lag, 12);
  assert.equal(order!.deadLetters, 2);
  assert.equal(edge!.lag, undefined);
  assert.equal(order!.p99Ms, 100, "the failures are the slow ones (above the last bound)");
  assert.equal(v.saga.rejectedPerS, 2);
  assert.deepEqual(v.saga.rejectedBy, { timeout: 2 });
  assert.equal(v.saga.ended, 20);
  assert.ok(v.saga.p50Ms! > 0 && v.saga.p50Ms! <= 100);
});

Deno.test("renderTop() lays out one line per service and the saga", () => {
  const lines = renderTop(topView(series, 10_000, 10_000), { source: "test", clock: "12:00:00" })
    .map(plain);
  assert.match(lines[0]!, /Stocklet top\s+test\s+12:00:00/);
  const order = lines.find((l) => l.startsWith("order"))!;
  assert.match(order, /^order\s+10\.0\s+5\.0\s+\d+\.\d\s+0\.1\s+12\s+2\s+-\s+-$/);
  assert.ok(lines.some((l) => /rejected by reason: timeout 2\.0/.test(l)));
  assert.ok(
    lines.some((l) => /place → terminal\s+p50 \d+ ms\s+p99 \d+ ms\s+\(20 sagas ended\)/.test(l)),
  );
});

Deno.test("terminalSvg() draws styled text, escaped", () => {
  assert.deepEqual(
    styledRuns("a\x1b[1;31mb\x1b[0mc").map((r) => [r.text, r.style.bold, r.style.colour]),
    [
      ["a", false, "#d8d8d8"],
      ["b", true, "#ff6e67"],
      ["c", false, "#d8d8d8"],
    ],
  );
  const svg = terminalSvg(["x < y", "\x1b[32mok\x1b[0m"], { title: "top" });
  assert.match(svg, /^<svg /);
  assert.match(svg, /x &lt; y/);
  assert.match(svg, /<tspan fill="#5ff967">ok<\/tspan>/);
});

Deno.test("topView() with replicas: the group's lag once, every live process's memory, ×N", () => {
  const gauge = (
    instance: string,
    name: string,
    attrs: Record<string, string>,
    v: number,
    t: number,
  ) => ({
    ...base,
    monotonic: false,
    kind: "gauge" as const,
    service: "order",
    instance,
    name,
    attributes: attrs,
    points: [{ t, v }],
  });
  const p0 = { "messaging.destination.name": "payment.processing", "partition": "0" };
  const p1 = { "messaging.destination.name": "payment.processing", "partition": "1" };
  const replicas: Series[] = [
    // Both replicas report the group's lag per partition: the freshest value counts, once.
    gauge("order", "stocklet.consumer.lag", p0, 5, 9_000),
    gauge("order@1", "stocklet.consumer.lag", p0, 3, 10_000),
    gauge("order", "stocklet.consumer.lag", p1, 4, 10_000),
    gauge("order@1", "stocklet.consumer.lag", p1, 4, 9_500),
    gauge("order", "stocklet.outbox.pending", {}, 7, 10_000),
    gauge("order@1", "stocklet.outbox.pending", {}, 7, 10_000),
    gauge("order", "process.memory.usage", {}, 100 * 2 ** 20, 10_000),
    gauge("order@1", "process.memory.usage", {}, 50 * 2 ** 20, 10_000),
    // A replica that died a minute ago: neither its memory nor its stale lag counts.
    gauge("order@2", "process.memory.usage", {}, 70 * 2 ** 20, -50_000),
    gauge("order@2", "stocklet.consumer.lag", p1, 999, -50_000),
  ];
  const [order] = topView(replicas, 10_000, 10_000).services;
  assert.equal(order!.lag, 3 + 4);
  assert.equal(order!.outbox, 7);
  assert.equal(order!.memMiB, 150);
  assert.equal(order!.instances, 2);
  const line = renderTop(topView(replicas, 10_000, 10_000), { source: "test" }).map(plain)
    .find((l) => l.startsWith("order"))!;
  assert.match(line, /^order ×2\s/);
  // One process: no count.
  assert.equal(topView(series, 10_000, 10_000).services[1]!.instances, undefined);
});
