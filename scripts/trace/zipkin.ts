/**
 * Spans in Zipkin's JSON v2 format (`POST /api/v2/spans`), for the dev collector to forward what
 * it receives to a local Zipkin server (`deno task dev --zipkin`).
 * @module
 */
import type { SpanRow } from "./store.ts";

/** A span as Zipkin's v2 API takes it. */
export interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name: string;
  kind?: "SERVER" | "CLIENT" | "PRODUCER" | "CONSUMER";
  /** Start, µs since the epoch. */
  timestamp: number;
  /** µs. */
  duration: number;
  localEndpoint: { serviceName: string };
  tags: Record<string, string>;
}

const KINDS: Record<number, ZipkinSpan["kind"]> = {
  2: "SERVER",
  3: "CLIENT",
  4: "PRODUCER",
  5: "CONSUMER",
};

/** One stored span in Zipkin's format (OTel's internal spans have no Zipkin kind). */
export function zipkinSpanOf(s: SpanRow): ZipkinSpan {
  const tags: Record<string, string> = {};
  for (const [k, v] of Object.entries(s.attributes)) {
    if (v !== null && v !== undefined) tags[k] = typeof v === "string" ? v : JSON.stringify(v);
  }
  if (s.status === 2) tags.error = tags.error ?? "true";
  const kind = KINDS[s.kind];
  return {
    traceId: s.trace_id,
    id: s.span_id,
    ...(s.parent_id ? { parentId: s.parent_id } : {}),
    name: s.name,
    ...(kind ? { kind } : {}),
    timestamp: Number(s.start_ns / 1000n),
    duration: Math.max(1, Number((s.end_ns - s.start_ns) / 1000n)),
    localEndpoint: { serviceName: s.service },
    tags,
  };
}

/** Zipkin's UI page of a trace. */
export function zipkinTraceUrl(base: string, traceId: string): string {
  return `${base.replace(/\/$/, "")}/zipkin/traces/${traceId}`;
}

/**
 * Sends spans to a Zipkin server, without waiting on the caller's path: what cannot be delivered
 * (Zipkin not up yet, or gone) is dropped, and the first failure reported once.
 */
export function zipkinForwarder(
  base: string,
  onFirstFailure: (error: unknown) => void = () => {},
): (spans: readonly SpanRow[]) => Promise<void> {
  let failed = false;
  const url = `${base.replace(/\/$/, "")}/api/v2/spans`;
  return async (spans) => {
    if (!spans.length) return;
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(spans.map(zipkinSpanOf)),
        signal: AbortSignal.timeout(5000),
      });
      await res.body?.cancel();
      if (res.status >= 300) throw new Error(`Zipkin answered ${res.status}`);
      failed = false;
    } catch (error) {
      if (!failed) onFirstFailure(error);
      failed = true;
    }
  };
}
