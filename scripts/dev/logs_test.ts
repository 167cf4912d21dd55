import assert from "node:assert/strict";
import { forEachLine, renderLine } from "./logs.ts";

Deno.test("renderLine() condenses a JSON log line and keeps other lines", () => {
  const line = JSON.stringify({
    time: "2026-11-25T10:11:12.345Z",
    level: "warning",
    msg: "retrying",
    trace_id: "0123456789abcdef0123456789abcdef",
  });
  // deno-lint-ignore no-control-regex
  const out = renderLine(line).replace(/\x1b\[[0-9;]*m/g, "");
  assert.equal(out, "10:11:12.345 WRN retrying (trace 01234567)");
  assert.equal(renderLine("plain text"), "plain text");
  assert.equal(renderLine(line, true), line);
});

Deno.test("forEachLine() splits chunks into whole lines", async () => {
  const chunks = ["a\nb", "c\n", "d"].map((s) => new TextEncoder().encode(s));
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      for (const ch of chunks) c.enqueue(ch);
      c.close();
    },
  });
  const lines: string[] = [];
  await forEachLine(stream, (l) => lines.push(l));
  assert.deepEqual(lines, ["a", "bc", "d"]);
});
