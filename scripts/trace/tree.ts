/**
 * Rendering a trace as an indented tree of spans with their services and timings.
 * @module
 */
import type { SpanRow } from "./store.ts";

const KIND = ["", "internal", "server", "client", "producer", "consumer"];

/** The lines of a trace's tree, children in start order, offsets relative to the first span. */
export function renderTrace(spans: readonly SpanRow[]): string[] {
  if (!spans.length) return [];
  const byId = new Map(spans.map((s) => [s.span_id, s]));
  const children = new Map<string | null, SpanRow[]>();
  for (const s of spans) {
    // A span whose parent was not received (e.g. the client's own span) hangs off the root.
    const parent = s.parent_id && byId.has(s.parent_id) ? s.parent_id : null;
    const list = children.get(parent) ?? [];
    list.push(s);
    children.set(parent, list);
  }
  for (const list of children.values()) list.sort((a, b) => Number(a.start_ns - b.start_ns));
  const t0 = spans.reduce((m, s) => (s.start_ns < m ? s.start_ns : m), spans[0]!.start_ns);
  const t1 = spans.reduce((m, s) => (s.end_ns > m ? s.end_ns : m), spans[0]!.end_ns);
  const ms = (ns: bigint) => (Number(ns) / 1e6).toFixed(1);
  const lines = [`trace ${spans[0]!.trace_id}: ${spans.length} spans, ${ms(t1 - t0)} ms`];
  const walk = (parent: string | null, prefix: string) => {
    const list = children.get(parent) ?? [];
    list.forEach((s, i) => {
      const last = i === list.length - 1;
      const branch = parent === null && prefix === "" ? "" : last ? "└─ " : "├─ ";
      const err = s.status === 2 ? "  ERROR" : "";
      lines.push(
        `${prefix}${branch}[${s.service}] ${s.name} (${KIND[s.kind] ?? s.kind})  +${
          ms(s.start_ns - t0)
        } ms, ${ms(s.end_ns - s.start_ns)} ms${err}`,
      );
      walk(s.span_id, prefix + (parent === null && prefix === "" ? "" : last ? "   " : "│  "));
    });
  };
  walk(null, "");
  return lines;
}
