/**
 * The edge's configuration, from the environment.
 *
 * | Variable | Default |
 * |---|---|
 * | `BIND_HOST` | `127.0.0.1` |
 * | `STOCKLET_EDGE_PORT` | `8080` |
 * | `<SVC>_HTTP_URL` (e.g. `ORDER_HTTP_URL`) | `http://127.0.0.1:<httpPort from topology>` |
 * | `WEB_HTTP_URL` | `http://127.0.0.1:8090` (the web front: every path outside `/v1/`) |
 * | `AUTH_JWKS_URL` | `<AUTH_HTTP_URL>/v1/auth/jwks` |
 * | `STOCKLET_CORS_ORIGINS` | `*` (comma-separated origins otherwise) |
 * | `STOCKLET_EDGE_MAX_BODY_BYTES` | `1048576` |
 * | `STOCKLET_EDGE_TIMEOUT_MS` | `10000` |
 * | `STOCKLET_EDGE_ACCESS_LOG` | `true` |
 * | `STOCKLET_EDGE_UPSTREAM_MAX_REQUESTS` | `1024` (calls in progress per service; see upstream_limit.ts) |
 * | `STOCKLET_EDGE_UPSTREAM_MAX_PENDING` | `1024` (calls waiting per service; past them: 503) |
 * | `STOCKLET_EDGE_CLOSE_REFUSED_ABOVE` | `128` (client connections in use past which a caller refused for capacity is told to close; 0: always; see crowd.ts) |
 * | `STOCKLET_RATE_LIMIT` | `on` (`off`: no limits — load tests; the dev and test stacks) |
 * | `STOCKLET_RATE_LIMITS` | the defaults of policy.ts; overrides as `name=requests/seconds,…` |
 * @module
 */
import {
  bool,
  configParts,
  int,
  list,
  port,
  serviceUrlSpec,
  str,
  url,
  type Var,
} from "@stocklet/shared/config";
import {
  DEFAULT_PORTS,
  httpUrlVar,
  type ServiceName,
  serviceSpec,
  WEB,
} from "@stocklet/shared/topology";
import {
  DEFAULT_BODY_LIMIT_BYTES,
  DEFAULT_RATE_LIMITS,
  DEFAULT_UPSTREAM_TIMEOUT_MS,
  type RateLimit,
  type RateLimitName,
} from "./policy.ts";
import { DEFAULT_CLOSE_REFUSED_ABOVE } from "./crowd.ts";
import { parseRateLimits } from "./rate_limit.ts";
import { DEFAULT_UPSTREAM_MAX_PENDING, DEFAULT_UPSTREAM_MAX_REQUESTS } from "./upstream_limit.ts";

/** The edge's settings. */
export interface EdgeConfig {
  /** Interface to bind. @default "127.0.0.1" */
  host: string;
  /** The one port of the edge. @default 8080 */
  port: number;
  /** Base URL of each service's REST gateway (no trailing slash). */
  /** Base URLs of each service's replicas (no trailing slash). */
  upstreams: Record<ServiceName, string[]>;
  /** Base URL of the web front, which serves every path outside `/v1/` (no trailing slash). */
  web: string;
  /** Where access tokens' keys are published. */
  jwksUrl: string;
  /** Origins allowed by CORS; `["*"]` allows any. */
  corsOrigins: string[];
  /** Largest request body (bytes). @default 1048576 */
  bodyLimitBytes: number;
  /** Upstream timeout (ms) of routes without their own. @default 10000 */
  timeoutMs: number;
  /** Write one access log line per request. @default true */
  accessLog: boolean;
  /** Calls in progress per service (Envoy's circuit breakers). @default 1024 */
  upstreamMaxRequests: number;
  /** Calls waiting per service; past them the edge answers 503. @default 1024 */
  upstreamMaxPending: number;
  /**
   * Client connections in use past which a caller refused for capacity is told to close its
   * connection; 0: always. @default 128
   */
  closeRefusedAbove: number;
  /** The rate limits, or false when they are off (`STOCKLET_RATE_LIMIT=off`). */
  rateLimits: Record<RateLimitName, RateLimit> | false;
}

/** The environment variable holding a service's upstream URL, e.g. `ORDER_HTTP_URL`. */
export function upstreamVar(service: ServiceName | "web"): string {
  return httpUrlVar(service);
}

function trimSlash(u: string): string {
  return u.replace(/\/+$/, "");
}

/**
 * Reads the edge's configuration; throws one ConfigError listing every bad variable.
 *
 * @param env The environment (the process's by default).
 * @returns The configuration.
 * @example
 * ```ts
 * const cfg = loadEdgeConfig({ ORDER_HTTP_URL: "http://order:8092" });
 * cfg.upstreams.order; // ["http://order:8092"]
 * ```
 */
export function loadEdgeConfig(
  env: Record<string, string | undefined> = Deno.env.toObject(),
): EdgeConfig {
  const parts = configParts(env);
  const upstreams = parts.load(serviceUrlSpec());
  const authUrl = upstreams?.auth[0] ?? `http://127.0.0.1:${serviceSpec("auth").httpPort}`;
  const rest = parts.load<Omit<EdgeConfig, "upstreams" | "rateLimits">>({
    host: str("BIND_HOST", { default: "127.0.0.1" }),
    port: port("STOCKLET_EDGE_PORT", { default: DEFAULT_PORTS.edge }),
    jwksUrl: url("AUTH_JWKS_URL", {
      protocols: ["http", "https"],
      default: `${authUrl}/v1/auth/jwks`,
    }),
    web: url(httpUrlVar("web"), {
      protocols: ["http", "https"],
      default: `http://127.0.0.1:${WEB.httpPort}`,
    }),
    corsOrigins: list("STOCKLET_CORS_ORIGINS", { default: ["*"] }),
    bodyLimitBytes: int("STOCKLET_EDGE_MAX_BODY_BYTES", {
      default: DEFAULT_BODY_LIMIT_BYTES,
      min: 0,
    }),
    timeoutMs: int("STOCKLET_EDGE_TIMEOUT_MS", {
      default: DEFAULT_UPSTREAM_TIMEOUT_MS,
      min: 1,
    }),
    accessLog: bool("STOCKLET_EDGE_ACCESS_LOG", { default: true }),
    upstreamMaxRequests: int("STOCKLET_EDGE_UPSTREAM_MAX_REQUESTS", {
      default: DEFAULT_UPSTREAM_MAX_REQUESTS,
      min: 1,
    }),
    upstreamMaxPending: int("STOCKLET_EDGE_UPSTREAM_MAX_PENDING", {
      default: DEFAULT_UPSTREAM_MAX_PENDING,
      min: 0,
    }),
    closeRefusedAbove: int("STOCKLET_EDGE_CLOSE_REFUSED_ABOVE", {
      default: DEFAULT_CLOSE_REFUSED_ABOVE,
      min: 0,
    }),
  });
  const limits = parts.load<{ on: boolean; limits: Record<RateLimitName, RateLimit> }>({
    on: {
      name: "STOCKLET_RATE_LIMIT",
      default: true,
      parse(raw: string): boolean {
        if (raw === "on") return true;
        if (raw === "off") return false;
        throw new Error(`must be on or off, got "${raw}"`);
      },
    } satisfies Var<boolean>,
    limits: {
      name: "STOCKLET_RATE_LIMITS",
      default: { ...DEFAULT_RATE_LIMITS },
      parse: (raw: string) => parseRateLimits(raw, DEFAULT_RATE_LIMITS),
    } satisfies Var<Record<RateLimitName, RateLimit>>,
  });
  parts.done();
  return {
    ...rest!,
    web: trimSlash(rest!.web),
    upstreams: upstreams!,
    rateLimits: limits!.on ? limits!.limits : false,
  };
}
