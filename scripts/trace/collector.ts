/**
 * The dev and test stacks' collector: an OTLP/HTTP (JSON) receiver. Spans (`/v1/traces`) go to
 * Postgres, so `deno task trace <order_id>` can show an order's saga, and, when asked, on to a
 * Zipkin server in its JSON format; metrics (`/v1/metrics`) are kept in memory (metric_store.ts)
 * and served at `GET /api/metrics` to `deno task top`, the tests and the bench. Logs posts are
 * accepted and dropped.
 *
 * `GET /api/metrics?names=a,b&service=order&window=60000` answers `{ now, series }`, each series
 * with its cumulative points of the last `window` ms (and the one before them).
 * @module
 */
import type postgres from "postgres";
import { type ExportTraceRequest, spansOf } from "./otlp.ts";
import { openTraceStore, type SpanRow } from "./store.ts";
import { type ExportMetricsRequest, MetricStore } from "./metric_store.ts";
import { zipkinForwarder } from "./zipkin.ts";

/** A running collector. */
export interface TraceCollector {
  readonly port: number;
  /** Spans stored so far. */
  stored(): number;
  /** The metrics received. */
  readonly metrics: MetricStore;
  stop(): Promise<void>;
}

/** Options of {@linkcode startTraceCollector}. */
export interface CollectorOptions {
  /** Zipkin's base URL (`http://127.0.0.1:9411`): spans are forwarded there too. */
  zipkinUrl?: string;
  /** Where the collector reports trouble (a failing forward). @default console.error */
  say?: (line: string) => void;
}

/** The body of `GET /api/metrics`. */
export interface MetricsAnswer {
  now: number;
  series: ReturnType<MetricStore["query"]>;
}

/** Starts the receiver on 127.0.0.1:port, storing into the `traces` database of adminUrl's server. */
export async function startTraceCollector(
  port: number,
  adminUrl: string,
  opts: CollectorOptions = {},
): Promise<TraceCollector> {
  const sql: postgres.Sql = await openTraceStore(adminUrl);
  const say = opts.say ?? ((line: string) => console.error(line));
  const forward = opts.zipkinUrl
    ? zipkinForwarder(
      opts.zipkinUrl,
      (e) =>
        say(
          `cannot forward spans to Zipkin at ${opts.zipkinUrl}: ${
            e instanceof Error ? e.message : e
          }`,
        ),
    )
    : undefined;
  const metrics = new MetricStore();
  let stored = 0;
  const ac = new AbortController();

  async function storeSpans(rows: SpanRow[]): Promise<void> {
    if (!rows.length) return;
    const values = rows.map((r) => ({
      ...r,
      start_ns: String(r.start_ns),
      end_ns: String(r.end_ns),
      attributes: sql.json(r.attributes as never),
    }));
    await sql`insert into spans ${sql(values as never)} on conflict do nothing`;
    stored += rows.length;
    forward?.(rows);
  }

  const server = Deno.serve(
    { hostname: "127.0.0.1", port, signal: ac.signal, onListen: () => {} },
    async (req) => {
      const url = new URL(req.url);
      const path = url.pathname;
      if (req.method === "GET" && path === "/api/metrics") {
        const names = url.searchParams.get("names");
        const service = url.searchParams.get("service");
        const window = Number(url.searchParams.get("window") ?? 60_000);
        const answer: MetricsAnswer = {
          now: Date.now(),
          series: metrics.query({
            ...(names ? { names: names.split(",") } : {}),
            ...(service ? { service } : {}),
            windowMs: Number.isFinite(window) ? window : 60_000,
          }),
        };
        return Response.json(answer);
      }
      if (req.method !== "POST") return new Response("OTLP/HTTP receiver", { status: 200 });
      if (path !== "/v1/traces" && path !== "/v1/metrics") {
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
        const body = await req.json();
        if (path === "/v1/metrics") metrics.add(body as ExportMetricsRequest);
        else await storeSpans(spansOf(body as ExportTraceRequest));
        return Response.json({});
      } catch (e) {
        return new Response(String(e), { status: 400 });
      }
    },
  );
  return {
    port,
    stored: () => stored,
    metrics,
    async stop() {
      ac.abort();
      await server.finished.catch(() => {});
      await sql.end({ timeout: 2 });
    },
  };
}
