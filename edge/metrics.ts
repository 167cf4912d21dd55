/**
 * The edge's instruments, recorded once per request when its answer is ready:
 *
 * - `http.server.request.duration` (s) by `http.route` (the route template, `_other` for paths
 *   with no route; its first segment names the service), `http.request.method`,
 *   `http.response.status_code`, and `error.type` for 5xx answers; its count is the request rate.
 *   (Deno's own instrumentation records the same name without the route, in the `deno` scope.)
 * - `stocklet.edge.cache.requests` ({request}) by route and `stocklet.cache.result` (`hit`,
 *   `miss`): public reads answered from, or stored into, the edge's cache;
 * - `stocklet.edge.rate_limited` ({request}) by route: requests the edge refused with 429 itself.
 * @module
 */
import type { Attributes } from "@opentelemetry/api";
import { meter, REQUEST_BUCKETS, SummedCounter } from "@stocklet/shared/metrics/meter";

const duration = meter.createHistogram("http.server.request.duration", {
  description: "Duration of requests through the edge, per route and status",
  unit: "s",
  advice: { explicitBucketBoundaries: [...REQUEST_BUCKETS] },
});
const cacheRequests = new SummedCounter("stocklet.edge.cache.requests", {
  description: "Cacheable reads at the edge, by result (hit, miss)",
  unit: "{request}",
});
const rateLimited = new SummedCounter("stocklet.edge.rate_limited", {
  description: "Requests the edge refused with 429 (rate limits)",
  unit: "{request}",
});

/** One answered request, as the edge saw it. */
export interface EdgeRequest {
  method: string;
  /** The route template, undefined when no route matched. */
  route: string | undefined;
  status: number;
  seconds: number;
  /** The answer's `x-cache` header (HIT, MISS), if any. */
  cache: string | null;
  /** Whether the edge itself refused the request with 429. */
  refused: boolean;
}

const sets = new Map<string, Attributes>();

function attrs(key: string, make: () => Attributes): Attributes {
  let a = sets.get(key);
  if (!a) sets.set(key, a = make());
  return a;
}

/** Records one request. */
export function recordEdgeRequest(r: EdgeRequest): void {
  const route = r.route ?? "_other";
  duration.record(
    r.seconds,
    attrs(`${r.method} ${route} ${r.status}`, () => ({
      "http.request.method": r.method,
      "http.route": route,
      "http.response.status_code": r.status,
      ...(r.status >= 500 ? { "error.type": String(r.status) } : {}),
    })),
  );
  if (r.cache === "HIT" || r.cache === "MISS") {
    const result = r.cache === "HIT" ? "hit" : "miss";
    cacheRequests.add(
      1,
      attrs(`cache ${route} ${result}`, () => ({
        "http.route": route,
        "stocklet.cache.result": result,
      })),
    );
  }
  if (r.refused) rateLimited.add(1, attrs(`429 ${route}`, () => ({ "http.route": route })));
}
