/**
 * The dev stack's trace collector: an OTLP/HTTP (JSON) receiver on `/v1/traces` that stores spans
 * in Postgres, so `deno task trace <order_id>` can show an order's saga without Jaeger. Logs and
 * metrics posts are accepted and dropped.
 * @module
 */
import type postgres from "postgres";
import { type ExportTraceRequest, spansOf } from "./otlp.ts";
import { openTraceStore } from "./store.ts";

/** A running collector. */
export interface TraceCollector {
  readonly port: number;
  /** Spans stored so far. */
  stored(): number;
  stop(): Promise<void>;
}

/** Starts the receiver on 127.0.0.1:port, storing into the `traces` database of adminUrl's server. */
export async function startTraceCollector(port: number, adminUrl: string): Promise<TraceCollector> {
  const sql: postgres.Sql = await openTraceStore(adminUrl);
  let stored = 0;
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port, signal: ac.signal, onListen: () => {} },
    async (req) => {
      const path = new URL(req.url).pathname;
      if (req.method !== "POST") return new Response("OTLP/HTTP receiver", { status: 200 });
      if (path !== "/v1/traces") {
        await req.body?.cancel();
        return Response.json({});
      }
      if (!(req.headers.get("content-type") ?? "").includes("json")) {
        await req.body?.cancel();
        return new Response("send http/json (OTEL_EXPORTER_OTLP_PROTOCOL=http/json)", {
          status: 415,
        });
      }
      try {
        const rows = spansOf(await req.json() as ExportTraceRequest);
        if (rows.length) {
          const values = rows.map((r) => ({
            ...r,
            start_ns: String(r.start_ns),
            end_ns: String(r.end_ns),
            attributes: sql.json(r.attributes as never),
          }));
          await sql`insert into spans ${sql(values as never)} on conflict do nothing`;
          stored += rows.length;
        }
        return Response.json({});
      } catch (e) {
        return new Response(String(e), { status: 400 });
      }
    },
  );
  return {
    port,
    stored: () => stored,
    async stop() {
      ac.abort();
      await server.finished.catch(() => {});
      await sql.end({ timeout: 2 });
    },
  };
}
