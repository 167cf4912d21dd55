/**
 * Flattening OTLP/HTTP JSON (`ExportTraceServiceRequest`, as Deno's built-in OpenTelemetry sends it
 * with `OTEL_EXPORTER_OTLP_PROTOCOL=http/json`) into span rows.
 * @module
 */
import type { SpanRow } from "./store.ts";

interface AnyValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: AnyValue[] };
}
export interface KeyValue {
  key: string;
  value?: AnyValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes?: KeyValue[];
  status?: { code?: number };
}
/** The request body. */
export interface ExportTraceRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: Array<{ spans?: OtlpSpan[] }>;
  }>;
}

function valueOf(v: AnyValue | undefined): unknown {
  if (!v) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(valueOf);
  return null;
}

/** Attributes as a plain object. */
export function attributesOf(kvs: KeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((kvs ?? []).map((kv) => [kv.key, valueOf(kv.value)]));
}

/** OTLP ids may come as hex (the JSON mapping) or base64 (protobuf-JSON of bytes): always hex. */
export function hexId(id: string | undefined): string {
  if (!id) return "";
  if (/^[0-9a-f]+$/i.test(id)) return id.toLowerCase();
  const bin = atob(id);
  return Array.from(bin, (c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join("");
}

/** Every span of a request, with its resource's `service.name`. */
export function spansOf(req: ExportTraceRequest): SpanRow[] {
  const rows: SpanRow[] = [];
  for (const rs of req.resourceSpans ?? []) {
    const service = String(attributesOf(rs.resource?.attributes)["service.name"] ?? "unknown");
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        const parent = hexId(s.parentSpanId);
        rows.push({
          trace_id: hexId(s.traceId),
          span_id: hexId(s.spanId),
          parent_id: parent && !/^0+$/.test(parent) ? parent : null,
          service,
          name: s.name,
          kind: s.kind ?? 0,
          start_ns: BigInt(s.startTimeUnixNano),
          end_ns: BigInt(s.endTimeUnixNano),
          status: s.status?.code ?? 0,
          attributes: attributesOf(s.attributes),
        });
      }
    }
  }
  return rows;
}
