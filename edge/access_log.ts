/**
 * One structured access log line per request, in the same JSON line format as every service's
 * logs (shared/logging.ts: time, level, service, logger, msg, trace_id, span_id, properties).
 * Lines are batched and written once per event-loop turn, so logging stays off the hot path.
 * @module
 */
import { activeIds } from "@stocklet/shared/tracing";

/** What one access log line records. */
export interface AccessEntry {
  method: string;
  path: string;
  status: number;
  /** Time to the response headers (ms). */
  durationMs: number;
  requestId: string;
  /** The service the request went to, if any. */
  upstream?: string;
  /** The matched route's template, if any. */
  route?: string;
  /** Why the edge itself failed the request (5xx it answered), if it did. */
  error?: string;
}

/** Writes access log entries. */
export type AccessLog = (entry: AccessEntry) => void;

/**
 * The JSON line of an entry (trace ids from the active span): the same fields, in the same order,
 * as shared/logging's `formatJsonLine`, built directly (no logger dispatch, no JSON replacer) as
 * it runs once per request.
 */
export function accessLine(entry: AccessEntry, now: number = Date.now()): string {
  const line: Record<string, unknown> = {
    time: new Date(now).toISOString(),
    level: "info",
    service: "edge",
    logger: "stocklet.edge.access",
    msg: `${entry.method} ${entry.path} ${entry.status}`,
  };
  const { traceId, spanId } = activeIds();
  if (traceId) {
    line.trace_id = traceId;
    line.span_id = spanId;
  }
  line.method = entry.method;
  line.path = entry.path;
  line.status = entry.status;
  line.duration_ms = Math.round(entry.durationMs * 1000) / 1000;
  line.request_id = entry.requestId;
  if (entry.upstream !== undefined) line.upstream = entry.upstream;
  if (entry.route !== undefined) line.route = entry.route;
  if (entry.error !== undefined) line.error = entry.error;
  return JSON.stringify(line) + "\n";
}

/** A line sink that batches writes to a file (stdout by default) once per event-loop turn. */
export function batchedWriter(
  file: { writeSync(p: Uint8Array): number } = Deno.stdout,
): { write(line: string): void; flush(): void } {
  const encoder = new TextEncoder();
  let lines: string[] = [];
  let scheduled = false;
  function flush(): void {
    scheduled = false;
    if (!lines.length) return;
    const bytes = encoder.encode(lines.join(""));
    lines = [];
    let at = 0;
    while (at < bytes.length) at += file.writeSync(bytes.subarray(at));
  }
  return {
    write(line: string): void {
      lines.push(line);
      if (lines.length >= 512) flush();
      else if (!scheduled) {
        scheduled = true;
        setTimeout(flush, 0);
      }
    },
    flush,
  };
}

/**
 * An access log writing JSON lines through a writer (batched stdout by default).
 *
 * @example
 * ```ts
 * const log = accessLog();
 * log({ method: "GET", path: "/v1/product/list", status: 200, durationMs: 1.2, requestId: "r1" });
 * ```
 */
export function accessLog(
  writer: { write(line: string): void } = batchedWriter(),
): AccessLog {
  return (entry) => writer.write(accessLine(entry));
}
