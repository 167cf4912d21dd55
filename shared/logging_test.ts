import assert from "node:assert/strict";
import type { LogRecord } from "@logtape/logtape";
import { formatJsonLine, parseLevel } from "./logging.ts";
import { withSpan } from "./tracing.ts";

function record(props: Record<string, unknown> = {}): LogRecord {
  return {
    category: ["stocklet", "order"],
    level: "info",
    message: ["order ", "o-1", " placed"],
    rawMessage: "order {id} placed",
    timestamp: Date.UTC(2026, 0, 2, 3, 4, 5),
    properties: { id: "o-1", cents: 10n, ...props },
  };
}

Deno.test("formatJsonLine() writes one JSON object with service, level, message and properties", () => {
  const line = formatJsonLine("order", record());
  assert.ok(line.endsWith("\n"));
  const obj = JSON.parse(line);
  assert.equal(obj.time, "2026-01-02T03:04:05.000Z");
  assert.equal(obj.level, "info");
  assert.equal(obj.service, "order");
  assert.equal(obj.logger, "stocklet.order");
  assert.equal(obj.msg, "order o-1 placed");
  assert.equal(obj.id, "o-1");
  assert.equal(obj.cents, "10");
});

Deno.test("formatJsonLine() carries the active span's trace and span ids", async () => {
  const obj = await withSpan("t", {}, (span) => {
    const o = JSON.parse(formatJsonLine("order", record()));
    const sc = span.spanContext();
    if (sc.traceId !== "00000000000000000000000000000000") {
      assert.equal(o.trace_id, sc.traceId);
      assert.equal(o.span_id, sc.spanId);
    } else {
      assert.equal(o.trace_id, undefined, "no trace id without OTEL_DENO");
    }
    return Promise.resolve(o);
  });
  assert.equal(obj.msg, "order o-1 placed");
});

Deno.test("parseLevel() reads LOG_LEVEL values", () => {
  assert.equal(parseLevel("DEBUG"), "debug");
  assert.equal(parseLevel("warn"), "warning");
  assert.equal(parseLevel(undefined), "info");
  assert.equal(parseLevel("bogus"), "info");
});
