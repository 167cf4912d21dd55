import assert from "node:assert/strict";
import type { LogRecord } from "@logtape/logtape";
import { formatJsonLine } from "@stocklet/shared/logging";
import { type AccessEntry, accessLine, batchedWriter } from "./access_log.ts";

Deno.test("accessLine() is one JSON line in the services' log format", () => {
  const line = accessLine({
    method: "GET",
    path: "/v1/product/list",
    status: 200,
    durationMs: 1.23456,
    requestId: "r1",
    upstream: "product",
    route: "/v1/product/list",
  }, Date.UTC(2026, 0, 1));
  assert.ok(line.endsWith("\n"));
  assert.deepEqual(JSON.parse(line), {
    time: "2026-01-01T00:00:00.000Z",
    level: "info",
    service: "edge",
    logger: "stocklet.edge.access",
    msg: "GET /v1/product/list 200",
    method: "GET",
    path: "/v1/product/list",
    status: 200,
    duration_ms: 1.235,
    request_id: "r1",
    upstream: "product",
    route: "/v1/product/list",
  });
});

Deno.test("accessLine() is exactly what shared/logging would write for the record", () => {
  const entry: AccessEntry = {
    method: "POST",
    path: "/v1/order/place",
    status: 502,
    durationMs: 3,
    requestId: "r2",
    upstream: "order",
    route: "/v1/order/place",
    error: "upstream order refused the connection",
  };
  const now = Date.now();
  const { method, path, status, durationMs, requestId, upstream, route, error } = entry;
  const record = {
    category: ["stocklet", "edge", "access"],
    level: "info",
    message: [`${method} ${path} ${status}`],
    rawMessage: `${method} ${path} ${status}`,
    timestamp: now,
    properties: {
      method,
      path,
      status,
      duration_ms: durationMs,
      request_id: requestId,
      upstream,
      route,
      error,
    },
  } as unknown as LogRecord;
  assert.equal(accessLine(entry, now), formatJsonLine("edge", record));
});

Deno.test("batchedWriter() writes every line, batched, and flushes on demand", async () => {
  const chunks: string[] = [];
  const w = batchedWriter({
    writeSync(p) {
      // A short write: the writer must carry on with the rest.
      const n = Math.min(p.length, 7);
      chunks.push(new TextDecoder().decode(p.subarray(0, n)));
      return n;
    },
  });
  w.write("a\n");
  w.write("b\n");
  assert.equal(chunks.length, 0, "nothing written synchronously");
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(chunks.join(""), "a\nb\n");
  w.write("c\n");
  w.flush();
  assert.equal(chunks.join(""), "a\nb\nc\n");
  await new Promise((r) => setTimeout(r, 5));
});
