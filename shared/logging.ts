/**
 * Structured logs: one JSON object per line on stdout with time, level, service, logger, message,
 * trace_id and span_id (from the active span) and the record's properties. Level from `LOG_LEVEL`.
 *
 * @example
 * ```ts
 * setupLogging("order");
 * getLog("order").info("order {orderId} placed", { orderId });
 * ```
 * @module
 */
import {
  configureSync,
  getLogger,
  type Logger,
  type LogLevel,
  type LogRecord,
  resetSync,
} from "@logtape/logtape";
import { activeIds } from "./tracing.ts";

export type { Logger };

const LEVELS: readonly LogLevel[] = ["trace", "debug", "info", "warning", "error", "fatal"];

function renderMessage(record: LogRecord): string {
  let out = "";
  for (let i = 0; i < record.message.length; i++) {
    const part = record.message[i];
    out += i % 2 === 0 ? String(part) : typeof part === "string" ? part : JSON.stringify(part);
  }
  return out;
}

function serialise(value: unknown): unknown {
  if (value instanceof Error) {
    return { name: value.name, message: value.message, stack: value.stack };
  }
  if (typeof value === "bigint") return value.toString();
  return value;
}

/** Formats a record as one JSON line (trace ids from the active span at logging time). */
export function formatJsonLine(service: string, record: LogRecord): string {
  const { traceId, spanId } = activeIds();
  const line: Record<string, unknown> = {
    time: new Date(record.timestamp).toISOString(),
    level: record.level,
    service,
    logger: record.category.join("."),
    msg: renderMessage(record),
  };
  if (traceId) {
    line.trace_id = traceId;
    line.span_id = spanId;
  }
  for (const [k, v] of Object.entries(record.properties)) {
    if (!(k in line)) line[k] = serialise(v);
  }
  return JSON.stringify(line, (_k, v) => typeof v === "bigint" ? v.toString() : v) + "\n";
}

/** Parses a LOG_LEVEL value (default info; `warn` accepted for warning). */
export function parseLevel(raw: string | undefined): LogLevel {
  const v = (raw ?? "info").toLowerCase();
  if (v === "warn") return "warning";
  return (LEVELS as readonly string[]).includes(v) ? v as LogLevel : "info";
}

/** Sends every `stocklet` logger's records to stdout as JSON lines. */
export function setupLogging(
  service: string,
  level: LogLevel = parseLevel(Deno.env.get("LOG_LEVEL")),
): void {
  const encoder = new TextEncoder();
  resetSync();
  configureSync({
    reset: true,
    sinks: {
      json: (record: LogRecord) => {
        Deno.stdout.writeSync(encoder.encode(formatJsonLine(service, record)));
      },
    },
    loggers: [
      { category: ["stocklet"], lowestLevel: level, sinks: ["json"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["json"] },
    ],
  });
}

/** A logger under the `stocklet` category. */
export function getLog(...category: string[]): Logger {
  return getLogger(["stocklet", ...category]);
}
