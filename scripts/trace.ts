/**
 * `deno task trace <order_id>`: prints an order's whole saga — the HTTP request, every gRPC
 * handler, SQL transaction and Kafka hop — as a tree of spans with services and timings, from the
 * spans the dev stack's collector stored (`deno task dev` must have been running with tracing on),
 * and each trace's link in Zipkin's UI (`deno task dev --zipkin`).
 */
import postgres from "postgres";
import { infraConfig, pgUrlOf } from "./infra/config.ts";
import type { SpanRow } from "./trace/store.ts";
import { TRACES_DB } from "./trace/store.ts";
import { renderTrace } from "./trace/tree.ts";
import { zipkinTraceUrl } from "./trace/zipkin.ts";
import { zipkinUrl } from "./dev/zipkin.ts";

/** Whether a Zipkin server answers at base. */
async function zipkinUp(base: string): Promise<boolean> {
  try {
    const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(500) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

/** The spans of every trace that touched an order. */
export async function orderTraces(sql: postgres.Sql, orderId: string): Promise<SpanRow[][]> {
  const ids = await sql<Array<{ trace_id: string }>>`
    select distinct trace_id from spans
    where attributes->>'stocklet.order_id' = ${orderId}
       or attributes->>'messaging.kafka.message.key' = ${orderId}`;
  const out: SpanRow[][] = [];
  for (const { trace_id } of ids) {
    out.push(
      await sql<SpanRow[]>`select * from spans where trace_id = ${trace_id} order by start_ns`,
    );
  }
  return out.sort((a, b) => Number(a[0]!.start_ns - b[0]!.start_ns));
}

if (import.meta.main) {
  const orderId = Deno.args[0];
  if (!orderId) {
    console.error("usage: deno task trace <order_id>");
    Deno.exit(2);
  }
  const url = pgUrlOf(infraConfig(), TRACES_DB);
  const sql = postgres(url, { max: 1, onnotice: () => {}, types: { bigint: postgres.BigInt } });
  try {
    const traces = await orderTraces(sql, orderId);
    if (!traces.length) {
      console.error(
        `no spans for order ${orderId} (is \`deno task dev\` running with tracing on?)`,
      );
      Deno.exit(1);
    }
    const zipkin = zipkinUrl();
    const linked = await zipkinUp(zipkin);
    for (const t of traces) {
      const link = linked
        ? `zipkin: ${zipkinTraceUrl(zipkin, t[0]!.trace_id)}`
        : `zipkin: ${zipkinTraceUrl(zipkin, t[0]!.trace_id)} (with \`deno task dev --zipkin\`)`;
      console.log(renderTrace(t).join("\n") + "\n" + link + "\n");
    }
  } finally {
    await sql.end();
  }
}
