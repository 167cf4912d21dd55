import assert from "node:assert/strict";
import type { SpanRow } from "./store.ts";
import { zipkinForwarder, zipkinSpanOf, zipkinTraceUrl } from "./zipkin.ts";

const row: SpanRow = {
  trace_id: "0af7651916cd43dd8448eb211c80319c",
  span_id: "b7ad6b7169203331",
  parent_id: "00f067aa0ba902b7",
  service: "order",
  name: "order.state.created process",
  kind: 5,
  start_ns: 1_700_000_000_123_456_789n,
  end_ns: 1_700_000_000_125_456_789n,
  status: 2,
  attributes: { "messaging.destination.name": "order.state.created", "messaging.kafka.offset": 7 },
};

Deno.test("zipkinSpanOf() maps a span to Zipkin's v2 JSON (µs, kinds, tags, errors)", () => {
  assert.deepEqual(zipkinSpanOf(row), {
    traceId: row.trace_id,
    id: row.span_id,
    parentId: row.parent_id,
    name: row.name,
    kind: "CONSUMER",
    timestamp: 1_700_000_000_123_456,
    duration: 2000,
    localEndpoint: { serviceName: "order" },
    tags: {
      "messaging.destination.name": "order.state.created",
      "messaging.kafka.offset": "7",
      error: "true",
    },
  });
  const internal = zipkinSpanOf({ ...row, kind: 1, parent_id: null, status: 0 });
  assert.equal(internal.kind, undefined);
  assert.equal(internal.parentId, undefined);
  assert.equal(internal.tags.error, undefined);
});

Deno.test("zipkinTraceUrl() links a trace in Zipkin's UI", () => {
  assert.equal(
    zipkinTraceUrl("http://127.0.0.1:9411/", "abc"),
    "http://127.0.0.1:9411/zipkin/traces/abc",
  );
});

Deno.test("zipkinForwarder() posts spans to /api/v2/spans and reports a failure once", async () => {
  const got: unknown[] = [];
  const ac = new AbortController();
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", signal: ac.signal, onListen() {} },
    async (req) => {
      got.push({ path: new URL(req.url).pathname, body: await req.json() });
      return new Response(null, { status: 202 });
    },
  );
  try {
    const forward = zipkinForwarder(`http://127.0.0.1:${server.addr.port}`);
    await forward([row]);
    assert.equal(got.length, 1);
    assert.deepEqual(got[0], { path: "/api/v2/spans", body: [zipkinSpanOf(row)] });
  } finally {
    ac.abort();
    await server.finished;
  }
  const failures: unknown[] = [];
  const dead = zipkinForwarder("http://127.0.0.1:9", (e) => failures.push(e));
  await dead([row]);
  await dead([row]);
  assert.equal(failures.length, 1);
});
