/**
 * Tracing with `@opentelemetry/api`. The runtime (Deno's built-in OpenTelemetry, `OTEL_DENO=true`)
 * owns the provider, the exporter and the W3C propagator; this module only opens spans and moves
 * `traceparent` in and out of carriers (HTTP headers, gRPC metadata, outbox rows, Kafka headers).
 * @module
 */
import {
  type Attributes,
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from "@opentelemetry/api";

export { SpanKind };
export type { Context, Span };

/** The tracer every Stocklet module uses. */
export const tracer: Tracer = trace.getTracer("stocklet", "0.1.0");

/** Options for {@linkcode withSpan}. */
export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** The parent context; the active one by default. */
  parent?: Context;
}

/** Marks a span as failed with the error. */
export function recordSpanError(span: Span, err: unknown): void {
  if (err instanceof Error) span.recordException(err);
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: err instanceof Error ? err.message : String(err),
  });
}

/**
 * Runs fn inside a new active span, ending it when fn settles and recording a thrown error.
 *
 * @example
 * ```ts
 * const rows = await withSpan("load order", {}, () => sql`select 1`);
 * ```
 */
export function withSpan<T>(
  name: string,
  opts: SpanOptions,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = opts.parent ?? context.active();
  return tracer.startActiveSpan(
    name,
    {
      kind: opts.kind ?? SpanKind.INTERNAL,
      ...(opts.attributes ? { attributes: opts.attributes } : {}),
    },
    parent,
    async (span) => {
      try {
        return await fn(span);
      } catch (err) {
        recordSpanError(span, err);
        throw err;
      } finally {
        span.end();
      }
    },
  );
}

/** Whether a span is active here (so a new span would join its trace rather than start one). */
export function insideTrace(): boolean {
  return trace.getActiveSpan() !== undefined;
}

/** The W3C `traceparent` of the active span, if tracing is on. */
export function currentTraceparent(ctx: Context = context.active()): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier.traceparent;
}

/** A context whose remote parent is the given `traceparent` (the root context if absent). */
export function contextFromTraceparent(traceparent: string | undefined | null): Context {
  if (!traceparent) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, { traceparent });
}

/** A context extracted from any header-like carrier (HTTP headers, gRPC metadata map). */
export function contextFromCarrier(carrier: Record<string, string | undefined>): Context {
  return propagation.extract(ROOT_CONTEXT, carrier);
}

/** Trace and span ids of the active span ("" when tracing is off). */
export function activeIds(): { traceId: string; spanId: string } {
  const sc = trace.getActiveSpan()?.spanContext();
  if (!sc || sc.traceId === "00000000000000000000000000000000") return { traceId: "", spanId: "" };
  return { traceId: sc.traceId, spanId: sc.spanId };
}

/** The trace id inside a `traceparent` ("" if malformed). */
export function traceIdOf(traceparent: string | undefined | null): string {
  const m = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(traceparent ?? "");
  return m ? m[1]! : "";
}

/** Sets an attribute on the active span (no-op when tracing is off), e.g. the order a call concerns. */
export function tagActiveSpan(key: string, value: string | number | boolean): void {
  trace.getActiveSpan()?.setAttribute(key, value);
}
