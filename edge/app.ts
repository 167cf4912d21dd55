/**
 * The edge's request handler: CORS preflight → token check → route → proxy, plus `/healthz`,
 * `/openapi.json` and Swagger UI at `/docs`; every other path outside `/v1/` goes to the web front
 * (the storefront), whose live pages may stream past the upstream timeout. Every response carries `x-request-id` (the client's
 * if sane, a fresh UUID otherwise) and CORS headers; every request writes one access log line.
 * A plain `(Request) => Promise<Response>` function with no middleware stack: the proxy path is
 * one route lookup, at most one (cached) token check and one fetch.
 * @module
 */
import { trace } from "@opentelemetry/api";
import type { TokenVerifier } from "@stocklet/shared/auth";
import type { ServiceName } from "@stocklet/shared/topology";
import type { AccessLog } from "./access_log.ts";
import { tokenCheck } from "./auth.ts";
import { corsFor } from "./cors.ts";
import { connectionCrowd } from "./crowd.ts";
import { type DocsHandler, OPENAPI_PATH } from "./docs.ts";
import { EdgeError, errorOf, errorResponse } from "./errors.ts";
import { renderOpenApi } from "./openapi.ts";
import {
  DEFAULT_BODY_LIMIT_BYTES,
  DEFAULT_UPSTREAM_TIMEOUT_MS,
  REQUEST_ID_HEADER,
  SANE_REQUEST_ID,
} from "./policy.ts";
import { forward, forwardBalanced, readBody } from "./proxy.ts";
import { isAtCapacity, shedRoutes } from "./shed.ts";
import { Balancer } from "@stocklet/shared/balancer";
import { loginAccountOf, type RateKey, rateLimitedError, rateLimiter } from "./rate_limit.ts";
import { type EdgeRoute, edgeRoutes, routerOf } from "./routes.ts";
import { type ResponseCache, responseCache } from "./cache.ts";
import { type RateLimit, type RateLimitName, rateLimitsOf } from "./policy.ts";
import { recordEdgeRequest } from "./metrics.ts";
import { type UpstreamLimitOptions, upstreamLimits } from "./upstream_limit.ts";

/** Options for {@linkcode edgeHandler}. */
export interface EdgeOptions {
  /**
   * Base URL of each service's REST gateway, e.g. `http://127.0.0.1:8092`, or of each of its
   * replicas: requests go round robin, past a replica that refuses connections.
   */
  upstreams: Record<ServiceName, string | readonly string[]>;
  /** Verifies bearer tokens (the auth service's JWKS in production). */
  verifier: TokenVerifier;
  /** The route table. @default edgeRoutes({ timeoutMs }) */
  routes?: readonly EdgeRoute[];
  /** Upstream timeout of routes without their own (ms), when `routes` is not given. @default 10_000 */
  timeoutMs?: number;
  /** Origins allowed by CORS. @default ["*"] */
  corsOrigins?: readonly string[];
  /** Largest request body (bytes). @default 1 MiB */
  bodyLimitBytes?: number;
  /** Where access log lines go; false for none. @default false */
  accessLog?: AccessLog | false;
  /** The OpenAPI document's text. @default generated from the routes */
  openapi?: string;
  /** Swagger UI; false for none. @default false */
  docs?: DocsHandler | false;
  /** Verified-token cache (see auth.ts). @default { size: 10_000, ttlMs: 30_000 } */
  tokenCache?: { size?: number; ttlMs?: number };
  /** The shared cache of public reads (see cache.ts); false for none. @default a responseCache() */
  cache?: ResponseCache | false;
  /**
   * Base URL of the web front (the storefront and admin console), which answers every path outside
   * `/v1/` that the edge does not serve itself. Without it those paths are 404.
   */
  web?: string;
  /** Ends the web front's open streams (live order pages) when aborted, e.g. as the edge stops. */
  streams?: AbortSignal;
  /** Rate limits per client address and login account (see rate_limit.ts); false: none. @default false */
  rateLimits?: Readonly<Record<RateLimitName, RateLimit>> | false;
  /**
   * After a service answered a route "at capacity", the edge refuses that route itself for this
   * long (ms; see shed.ts); 0: never. @default 100
   */
  shedWindowMs?: number;
  /**
   * Calls in progress and waiting per service (see upstream_limit.ts); false: unbounded.
   * @default { maxRequests: 1024, maxPending: 1024 } (Envoy's defaults)
   */
  upstreamLimits?: UpstreamLimitOptions | false;
  /**
   * The client connections in use (distinct ones that sent a request in the last second) above
   * which a caller refused for capacity is told to close its connection; 0: always (see crowd.ts).
   * @default 128
   */
  closeRefusedAbove?: number;
}

/** The edge's fetch handler, for `Deno.serve`. */
export type EdgeHandler = (req: Request, info?: Deno.ServeHandlerInfo) => Promise<Response>;

const HEALTHZ = JSON.stringify({ status: "ok" });

/** Splits an absolute request URL into its path and its query (with `?`). */
function splitUrl(url: string): { path: string; search: string } {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return { path: "/", search: "" };
  const q = url.indexOf("?", start);
  let path = q < 0 ? url.slice(start) : url.slice(start, q);
  // Resolve dot segments (`/v1/x/../y`, also percent-encoded) as Envoy's normalize_path does.
  if (path.includes("/.") || /%2e/i.test(path)) path = new URL(url).pathname;
  return { path, search: q < 0 ? "" : url.slice(q) };
}

function clientIpOf(info: Deno.ServeHandlerInfo | undefined): string | undefined {
  const addr = info?.remoteAddr as Deno.NetAddr | undefined;
  return addr?.hostname;
}

/**
 * Builds the edge's handler.
 *
 * @example
 * ```ts
 * const handler = edgeHandler({ upstreams, verifier: jwksVerifier({ jwks: jwksUrl }) });
 * Deno.serve({ port: 8080 }, handler);
 * ```
 */
export function edgeHandler(opts: EdgeOptions): EdgeHandler {
  const routes = opts.routes ??
    edgeRoutes({ timeoutMs: opts.timeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS });
  const router = routerOf(routes);
  const tokens = tokenCheck({
    verifier: opts.verifier,
    ...(opts.tokenCache?.size !== undefined ? { cacheSize: opts.tokenCache.size } : {}),
    ...(opts.tokenCache?.ttlMs !== undefined ? { cacheTtlMs: opts.tokenCache.ttlMs } : {}),
  });
  const cors = corsFor(opts.corsOrigins ?? ["*"]);
  const bodyLimit = opts.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const log = opts.accessLog || undefined;
  const docs = opts.docs || undefined;
  const upstreams = new Map<string, Balancer>(
    Object.entries(opts.upstreams).map((
      [svc, u],
    ) => [svc, new Balancer(typeof u === "string" ? [u] : u)]),
  );
  const cache = opts.cache === false ? undefined : opts.cache ?? responseCache();
  const web = opts.web?.replace(/\/+$/, "");
  const webTimeoutMs = opts.timeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS;
  const limiter = opts.rateLimits ? rateLimiter({ limits: opts.rateLimits }) : undefined;
  const limitsOf = new Map(routes.map((r) => [r.rpc, rateLimitsOf(r.rpc)]));
  const shed = opts.shedWindowMs === 0
    ? undefined
    : shedRoutes(opts.shedWindowMs !== undefined ? { windowMs: opts.shedWindowMs } : {});
  const bounded = opts.upstreamLimits === false ? undefined : upstreamLimits(opts.upstreamLimits);
  const crowd = connectionCrowd(
    opts.closeRefusedAbove !== undefined ? { bound: opts.closeRefusedAbove } : {},
  );
  let openapi = opts.openapi;

  /**
   * Takes a token from each of the route's buckets (by client address; a login's account from
   * its body, which is then read here); throws 429 with Retry-After when one is empty.
   * @returns the body when it was read.
   */
  async function limit(
    req: Request,
    route: EdgeRoute,
    clientIp: string | undefined,
  ): Promise<{ bytes: Uint8Array<ArrayBuffer> | undefined } | undefined> {
    if (!limiter) return undefined;
    let body: { bytes: Uint8Array<ArrayBuffer> | undefined } | undefined;
    const keys: RateKey[] = [];
    for (const name of limitsOf.get(route.rpc) ?? ["address" as const]) {
      if (name === "login-account") {
        body = { bytes: await readBody(req, bodyLimit) };
        const account = loginAccountOf(body.bytes);
        if (account !== undefined) keys.push({ limit: name, key: account });
      } else {
        keys.push({ limit: name, key: clientIp ?? "unknown" });
      }
    }
    const denied = limiter.take(keys);
    if (denied) {
      const e = rateLimitedError(denied);
      throw new EdgeError(429, e.message, undefined, denied.retryAfterSeconds);
    }
    return body;
  }

  /** What the edge answers itself; undefined for anything else. */
  async function local(method: string, path: string): Promise<Response | undefined> {
    if (method === "GET") {
      if (path === "/healthz") {
        return new Response(HEALTHZ, { headers: { "content-type": "application/json" } });
      }
      if (path === OPENAPI_PATH) {
        openapi ??= renderOpenApi({ routes });
        return new Response(openapi, {
          headers: { "content-type": "application/json", "cache-control": "no-cache" },
        });
      }
      if (docs) {
        const res = await docs(path);
        if (res) return res;
      }
    }
    return undefined;
  }

  return async function handle(req: Request, info?: Deno.ServeHandlerInfo): Promise<Response> {
    const t0 = performance.now();
    crowd.seen(info?.remoteAddr);
    const { path, search } = splitUrl(req.url);
    const given = req.headers.get(REQUEST_ID_HEADER);
    const requestId = given !== null && SANE_REQUEST_ID.test(given) ? given : crypto.randomUUID();
    const origin = req.headers.get("origin");
    let route: EdgeRoute | undefined;
    let upstream: string | undefined;
    let res: Response;
    let failure: unknown;
    let shedHere = false;
    try {
      const preflight = cors.preflight(req);
      if (preflight) {
        res = preflight;
      } else {
        route = router.match(req.method, path);
        const clientIp = clientIpOf(info);
        // Abuse is turned away before any other work (Envoy: local_ratelimit before jwt_authn).
        const body = route ? await limit(req, route, clientIp) : undefined;
        // Like Envoy's jwt_authn in front of the router: a token that is sent must be valid,
        // whatever the path.
        const authorization = req.headers.get("authorization");
        if (authorization !== null) await tokens.check(authorization);
        if (route) {
          const span = trace.getActiveSpan();
          if (span) {
            span.updateName(`${route.verb} ${route.template}`);
            span.setAttribute("http.route", route.template);
            span.setAttribute("stocklet.upstream", route.service);
          }
          const upstream = route;
          const send = () =>
            forwardBalanced(req, upstreams.get(upstream.service)!, path + search, {
              service: upstream.service,
              timeoutMs: upstream.timeoutMs,
              requestId,
              bodyLimitBytes: bodyLimit,
              dropTraceHeaders: span !== undefined,
              ...(clientIp ? { clientIp } : {}),
              ...(body ? { body } : {}),
              proto: req.url.startsWith("https:") ? "https" : "http",
            });
          const toUpstream = bounded
            ? () => bounded.run(upstream.service, upstream.timeoutMs, send)
            : send;
          const refused = shed?.refusal(route.rpc);
          if (refused) {
            res = refused;
            shedHere = true;
          } else {
            const done = shed?.forwarding(route.rpc);
            try {
              res = cache ? await cache.serve(req, path + search, toUpstream) : await toUpstream();
              await shed?.learn(route.rpc, res);
            } finally {
              done?.();
            }
          }
        } else {
          const own = await local(req.method, path);
          if (own) res = own;
          else if (web !== undefined && isWebPath(path)) {
            // Pages count against the client address's bucket, like every API route.
            if (limiter) {
              const denied = limiter.take([{ limit: "address", key: clientIp ?? "unknown" }]);
              if (denied) {
                const e = rateLimitedError(denied);
                throw new EdgeError(429, e.message, undefined, denied.retryAfterSeconds);
              }
            }
            const toWeb = () =>
              forward(req, {
                url: web + path + search,
                service: "web",
                timeoutMs: webTimeoutMs,
                streaming: true,
                ...(opts.streams ? { signal: opts.streams } : {}),
                requestId,
                bodyLimitBytes: bodyLimit,
                dropTraceHeaders: trace.getActiveSpan() !== undefined,
                ...(clientIp ? { clientIp } : {}),
                proto: req.url.startsWith("https:") ? "https" : "http",
              });
            res = cache ? await cache.serve(req, path + search, toWeb) : await toWeb();
            upstream = "web";
          } else throw new EdgeError(404, `no route for ${req.method} ${path}`);
        }
      }
    } catch (err) {
      failure = err;
      res = errorResponse(err);
    }
    res.headers.set(REQUEST_ID_HEADER, requestId);
    if (isAtCapacity(res) && crowd.crowded()) {
      // Envoy's `disable_http_keepalive` overload action: while the edge serves many connections,
      // a caller refused for the service's capacity is told to close its connection rather than
      // keep it idle. An overload's onset opens hundreds (each caller waits, so the next request
      // opens another), and kept alive they hold the edge's memory for as long as the clients
      // keep them: at twice the bench's peak offered the edge held 1,100 sockets. See crowd.ts
      // for why not always.
      res.headers.set("connection", "close");
    }
    cors.decorate(res.headers, origin);
    recordEdgeRequest({
      method: req.method,
      route: route?.template,
      status: res.status,
      seconds: (performance.now() - t0) / 1000,
      cache: res.headers.get("x-cache"),
      refused: res.status === 429 && (failure instanceof EdgeError || shedHere),
    });
    if (log) {
      log({
        method: req.method,
        path,
        status: res.status,
        durationMs: performance.now() - t0,
        requestId,
        ...(route ? { upstream: route.service, route: route.template } : {}),
        ...(upstream ? { upstream } : {}),
        ...(failure !== undefined && errorOf(failure).status >= 500
          ? { error: describe(failure) }
          : {}),
      });
    }
    return res;
  };
}

/**
 * Whether a path belongs to the web front: anything outside the API's `/v1/` prefix (an unknown API
 * path stays a JSON 404 from the edge).
 */
export function isWebPath(path: string): boolean {
  return path !== "/v1" && !path.startsWith("/v1/");
}

function describe(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let i = 0; e !== undefined && i < 4; i++) {
    parts.push(e instanceof Error ? e.message : String(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(": ");
}
