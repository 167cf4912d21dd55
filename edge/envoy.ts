/**
 * deploy/envoy/envoy.yaml, generated from the same route table and rules as the local edge
 * (`deno task gen` writes it; a test parses it back and compares): one route per public route
 * (path regex + method) to the service's cluster with its timeout, any other `/v1` path 404, and
 * every path outside `/v1/` to the web front (its event streams without a timeout);
 * `jwt_authn` against the auth service's JWKS with `allow_missing` (no token passes, a bad token
 * is 401); identity headers stripped; request ids; OpenTelemetry tracing; a body size limit;
 * CORS; the local edge's rate limits (`local_ratelimit` with a token bucket per client address,
 * and per login account, which a Lua filter reads from the login's body); and local replies in
 * the services' error shape `{code, message, details}`. Each service's cluster holds every replica
 * (its DNS name's addresses, or a list of URLs) with outlier detection, and each route retries on
 * another replica what never reached one (any method) or what was dropped without an answer (GET).
 * @module
 */
import { JWKS_MAX_AGE_SECONDS, TOKEN_AUDIENCE, TOKEN_ISSUER } from "@stocklet/shared/auth";
import { Code, type Code as GrpcCode } from "@stocklet/shared/errors";
import { DEFAULT_PORTS, type ServiceName, SERVICES, WEB } from "@stocklet/shared/topology";
import { stringify } from "yaml";
import { type EdgeRoute, edgeRoutes } from "./routes.ts";
import { DEFAULT_UPSTREAM_MAX_PENDING, DEFAULT_UPSTREAM_MAX_REQUESTS } from "./upstream_limit.ts";
import {
  BEARER_PREFIX,
  CORS_ALLOW_HEADERS,
  CORS_ALLOW_METHODS,
  CORS_EXPOSE_HEADERS,
  CORS_MAX_AGE_SECONDS,
  DEFAULT_BODY_LIMIT_BYTES,
  DEFAULT_RATE_LIMITS,
  DEFAULT_UPSTREAM_TIMEOUT_MS,
  LOGIN_ACCOUNT_HEADER,
  type RateLimit,
  type RateLimitName,
  rateLimitsOf,
  REQUEST_ID_HEADER,
  STRIPPED_REQUEST_HEADER_PREFIXES,
  STRIPPED_REQUEST_HEADERS,
} from "./policy.ts";

/** Options for {@linkcode envoyConfig}. */
export interface EnvoyOptions {
  /** The routes. @default edgeRoutes() */
  routes?: readonly EdgeRoute[];
  /** The listener port. @default 8080 */
  port?: number;
  /** Host name of each service and the web front (compose service names by default: `order`, …). */
  hosts?: Partial<Record<ServiceName | "web", string>>;
  /**
   * Every replica of a service or the web front as URLs (`<SVC>_HTTP_URL`'s list, as the local
   * edge reads it): one endpoint each, instead of the one host name of `hosts`.
   */
  upstreams?: Partial<Record<ServiceName | "web", readonly string[]>>;
  /** The OpenTelemetry collector (OTLP/gRPC). @default "otel-collector:4317" */
  otelCollector?: { host: string; port: number };
  /** Largest request body. @default 1 MiB */
  bodyLimitBytes?: number;
  /** The rate limits; false for none. @default DEFAULT_RATE_LIMITS */
  rateLimits?: Readonly<Record<RateLimitName, RateLimit>> | false;
}

/** The runtime key that turns the rate limits on (100) or off (0), e.g. for a load test. */
export const RATE_LIMIT_RUNTIME_KEY = "edge.rate_limit.enabled";

/** The name of the JWT provider in `jwt_authn`. */
export const JWT_PROVIDER = "stocklet_auth";
/** The cluster of the OpenTelemetry collector. */
export const OTEL_CLUSTER = "otel_collector";

type Yaml = { [key: string]: unknown };

/** Envoy's duration text for milliseconds (`10s`, `0.5s`). */
export function envoyDuration(ms: number): string {
  return `${ms / 1000}s`;
}

/**
 * The Lua source of the edge's own request rules: drops request headers by prefix (Envoy removes
 * only exact names); puts a login's account (the body's `email` or `user_id`, lower-cased) in
 * {@linkcode LOGIN_ACCOUNT_HEADER} for the per-account rate limit, after removing any value the
 * client sent; and turns the rate limiter's `x-ratelimit-reset` into `retry-after` on a 429.
 */
export function edgeLua(prefixes: readonly string[], loginPath: string): string {
  return [
    `local PREFIXES = { ${prefixes.map((p) => JSON.stringify(p)).join(", ")} }`,
    `local LOGIN_PATH = ${JSON.stringify(loginPath)}`,
    `local ACCOUNT_HEADER = ${JSON.stringify(LOGIN_ACCOUNT_HEADER)}`,
    "function envoy_on_request(handle)",
    "  local headers = handle:headers()",
    "  local doomed = {}",
    "  for key, _ in pairs(headers) do",
    "    for _, prefix in ipairs(PREFIXES) do",
    "      if string.sub(key, 1, #prefix) == prefix then",
    "        doomed[#doomed + 1] = key",
    "        break",
    "      end",
    "    end",
    "  end",
    "  for _, key in ipairs(doomed) do",
    "    headers:remove(key)",
    "  end",
    "  headers:remove(ACCOUNT_HEADER)",
    '  local path = headers:get(":path") or ""',
    '  local bare = string.match(path, "^[^?]*")',
    '  if headers:get(":method") == "POST" and bare == LOGIN_PATH then',
    "    local body = handle:body()",
    "    if body ~= nil and body:length() > 0 then",
    "      local text = body:getBytes(0, body:length())",
    `      local account = string.match(text, '"email"%s*:%s*"%s*([^"]-)%s*"')`,
    `        or string.match(text, '"user_?[iI]d"%s*:%s*"%s*([^"]-)%s*"')`,
    '      if account ~= nil and account ~= "" then',
    "        headers:replace(ACCOUNT_HEADER, string.lower(account))",
    "      end",
    "    end",
    "  end",
    "end",
    "function envoy_on_response(handle)",
    "  local headers = handle:headers()",
    '  if headers:get(":status") == "429" then',
    '    local reset = headers:get("x-ratelimit-reset")',
    "    if reset ~= nil then",
    '      headers:replace("retry-after", reset)',
    "    end",
    "  end",
    "end",
    "",
  ].join("\n");
}

/**
 * A rate limit as Envoy's token bucket: whole-second fill intervals (a multiple of the default
 * bucket's 1 s, as Envoy requires), the same burst and about the same average rate.
 */
export function tokenBucketOf(limit: RateLimit): Yaml {
  const perToken = limit.windowSeconds / limit.requests; // seconds per token
  const interval = Math.max(1, Math.round(perToken));
  return {
    max_tokens: limit.requests,
    tokens_per_fill: Math.max(1, Math.round(interval / perToken)),
    fill_interval: `${interval}s`,
  };
}

/** The descriptor key naming which limit a descriptor counts against. */
const LIMIT_KEY = "limit";

/** The route's `rate_limits`: one descriptor per limit the RPC counts against. */
function routeRateLimits(rpc: string): Yaml[] {
  return rateLimitsOf(rpc).map((name) => {
    if (name === "address") return { actions: [{ remote_address: {} }] };
    const which = { generic_key: { descriptor_key: LIMIT_KEY, descriptor_value: name } };
    if (name === "login-account") {
      return {
        actions: [which, {
          request_headers: { header_name: LOGIN_ACCOUNT_HEADER, descriptor_key: "account" },
        }],
      };
    }
    return { actions: [which, { remote_address: {} }] };
  });
}

/** The local rate limit filter: one wildcard descriptor (a bucket per value) per limit. */
function rateLimitFilter(limits: Readonly<Record<RateLimitName, RateLimit>>): Yaml {
  const percent = (key: string) => ({
    runtime_key: key,
    default_value: { numerator: 100, denominator: "HUNDRED" },
  });
  const descriptors = (Object.entries(limits) as Array<[RateLimitName, RateLimit]>).map(
    ([name, limit]) => ({
      entries: name === "address"
        ? [{ key: "remote_address", value: "" }]
        : name === "login-account"
        ? [{ key: LIMIT_KEY, value: name }, { key: "account", value: "" }]
        : [{ key: LIMIT_KEY, value: name }, { key: "remote_address", value: "" }],
      token_bucket: tokenBucketOf(limit),
    }),
  );
  const longest = Math.max(
    ...Object.values(limits).map((l) =>
      Number(String(tokenBucketOf(l).fill_interval).slice(0, -1))
    ),
  );
  return {
    "@type": "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
    stat_prefix: "edge_rate_limit",
    // Requests that match no descriptor (healthz, 404s) share a bucket that never runs dry.
    token_bucket: { max_tokens: 1_000_000, tokens_per_fill: 1_000_000, fill_interval: "1s" },
    always_consume_default_token_bucket: false,
    filter_enabled: percent(RATE_LIMIT_RUNTIME_KEY),
    filter_enforced: percent(RATE_LIMIT_RUNTIME_KEY),
    max_dynamic_descriptors: 100_000,
    enable_x_ratelimit_headers: "DRAFT_VERSION_03",
    // The Lua filter replaces it by x-ratelimit-reset, the exact wait.
    response_headers_to_add: [{
      header: { key: "retry-after", value: String(longest) },
      append_action: "OVERWRITE_IF_EXISTS_OR_ADD",
    }],
    descriptors,
  };
}

/** An upstream's address. */
export interface Endpoint {
  host: string;
  port: number;
}

/** The endpoints of a list of URLs (`http://10.0.0.5:8092`). */
export function endpointsOf(urls: readonly string[]): Endpoint[] {
  return urls.map((u) => {
    const url = new URL(u);
    return { host: url.hostname, port: Number(url.port || (url.protocol === "https:" ? 443 : 80)) };
  });
}

/**
 * A cluster of one or more endpoints, round robin. STRICT_DNS: a host name is resolved to every
 * address it has, so one compose service name (`docker compose up --scale order=2`) or a headless
 * Kubernetes Service is every replica; a list of URLs is one endpoint each.
 */
function cluster(name: string, endpoints: readonly Endpoint[], extra: Yaml = {}): Yaml {
  return {
    name,
    type: "STRICT_DNS",
    connect_timeout: "1s",
    lb_policy: "ROUND_ROBIN",
    load_assignment: {
      cluster_name: name,
      endpoints: [{
        lb_endpoints: endpoints.map(({ host, port }) => ({
          endpoint: { address: { socket_address: { address: host, port_value: port } } },
        })),
      }],
    },
    ...extra,
  };
}

/**
 * Passive health of a service's replicas: one that fails to connect or answers 502/503/504 three
 * times in a row (a gateway failure: gone, restarting, overloaded), or any 5xx five times, is
 * ejected for 10 s (longer each time again), at most half of a cluster at once. Connection
 * failures count as gateway failures (local-origin errors are not split out).
 */
export const OUTLIER_DETECTION: Readonly<Yaml> = {
  consecutive_5xx: 5,
  consecutive_gateway_failure: 3,
  // 0 by default: gateway failures would be counted but never eject.
  enforcing_consecutive_gateway_failure: 100,
  interval: "2s",
  base_ejection_time: "10s",
  max_ejection_percent: 50,
};

/**
 * What the edge asks of one service at once, as the local edge bounds it (upstream_limit.ts):
 * over HTTP/1.1 one request per connection, so `max_connections` calls in progress and
 * `max_pending_requests` waiting for one; past them Envoy answers 503 (`x-envoy-overloaded`).
 */
export const CIRCUIT_BREAKERS: Readonly<Yaml> = {
  max_connections: DEFAULT_UPSTREAM_MAX_REQUESTS,
  max_requests: DEFAULT_UPSTREAM_MAX_REQUESTS,
  max_pending_requests: DEFAULT_UPSTREAM_MAX_PENDING,
};

/** Methods that may be sent again after the upstream dropped them midway (RFC 9110 safe ones). */
const RETRY_ANY_RESET = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * When a request is tried again on another replica: a GET on any failure that produced no
 * response (refused, reset, dropped); any other method only when the upstream never got it (the
 * connection failed, the stream was refused, or reset before the request was sent: Envoy ≥ 1.31),
 * so a POST is never applied twice. Each try goes to a replica not tried yet.
 */
export function retryPolicyOf(verb: string): Yaml {
  return {
    retry_on: RETRY_ANY_RESET.has(verb)
      ? "connect-failure,refused-stream,reset"
      : "connect-failure,refused-stream,reset-before-request",
    num_retries: 2,
    retry_host_predicate: [{
      name: "envoy.retry_host_predicates.previous_hosts",
      typed_config: {
        "@type":
          "type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate",
      },
    }],
    host_selection_retry_max_attempts: 3,
  };
}

function errorJson(code: GrpcCode, message: string): string {
  return `{"code":${code},"message":"${message}","details":[]}`;
}

/** A local-reply mapper that formats a status (optionally matched by response flags). */
function mapper(
  match: { status: number } | { flags: string[] },
  code: GrpcCode,
  opts: { status?: number; message?: string } = {},
): Yaml {
  const filter = "status" in match
    ? {
      status_code_filter: {
        comparison: {
          op: "EQ",
          value: { default_value: match.status, runtime_key: `edge.local_reply.${match.status}` },
        },
      },
    }
    : { response_flag_filter: { flags: match.flags } };
  return {
    filter,
    ...(opts.status ? { status_code: opts.status } : {}),
    ...(opts.message ? { body: { inline_string: opts.message } } : {}),
    body_format_override: {
      text_format_source: { inline_string: errorJson(code, "%LOCAL_REPLY_BODY%") },
      content_type: "application/json",
    },
  };
}

/** The local replies in the error body shape, with the same statuses as the local edge. */
function localReplies(bodyLimit: number): Yaml {
  return {
    mappers: [
      // Connection refused or reset by the upstream: 502, as the local edge answers.
      mapper({ flags: ["UF"] }, Code.UNAVAILABLE, {
        status: 502,
        message: "upstream refused the connection",
      }),
      mapper({ flags: ["UC"] }, Code.UNAVAILABLE, {
        status: 502,
        message: "upstream closed the connection",
      }),
      mapper({ flags: ["UT"] }, Code.DEADLINE_EXCEEDED, {
        status: 504,
        message: "upstream timed out",
      }),
      mapper({ flags: ["UH", "UO"] }, Code.UNAVAILABLE, {
        status: 503,
        message: "upstream unavailable",
      }),
      mapper({ status: 413 }, Code.RESOURCE_EXHAUSTED, {
        message: `request body larger than ${bodyLimit} bytes`,
      }),
      mapper({ status: 400 }, Code.INVALID_ARGUMENT),
      mapper({ status: 401 }, Code.UNAUTHENTICATED),
      mapper({ status: 403 }, Code.PERMISSION_DENIED),
      mapper({ status: 404 }, Code.NOT_FOUND),
      mapper({ status: 429 }, Code.RESOURCE_EXHAUSTED),
      mapper({ status: 500 }, Code.INTERNAL),
      mapper({ status: 502 }, Code.UNAVAILABLE),
      mapper({ status: 503 }, Code.UNAVAILABLE),
      mapper({ status: 504 }, Code.DEADLINE_EXCEEDED),
    ],
  };
}

function routeOf(r: EdgeRoute, limited: boolean): Yaml {
  return {
    name: r.rpc,
    match: {
      safe_regex: { regex: r.pattern },
      headers: [{ name: ":method", string_match: { exact: r.verb } }],
    },
    route: {
      cluster: r.service,
      timeout: envoyDuration(r.timeoutMs),
      retry_policy: retryPolicyOf(r.verb),
      ...(limited ? { rate_limits: routeRateLimits(r.rpc) } : {}),
    },
    decorator: { operation: `${r.verb} ${r.template}` },
  };
}

/**
 * The Envoy bootstrap as an object (what envoy.yaml holds).
 *
 * @param opts Routes, hosts and limits.
 * @returns The configuration.
 */
export function envoyConfig(opts: EnvoyOptions = {}): Yaml {
  const routes = opts.routes ?? edgeRoutes();
  const bodyLimit = opts.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const rateLimits = opts.rateLimits ?? DEFAULT_RATE_LIMITS;
  const limited = rateLimits !== false;
  const login = routes.find((r) => r.rpc === "stocklet.auth.v1.AuthService.LoginPassword");
  const otel = opts.otelCollector ?? { host: "otel-collector", port: 4317 };
  const hostOf = (s: ServiceName | "web"): string => opts.hosts?.[s] ?? s;
  const auth = SERVICES.find((s) => s.name === "auth")!;
  const used = new Set(routes.map((r) => r.service));
  used.add("auth"); // the JWKS

  const jwtAuthn: Yaml = {
    providers: {
      [JWT_PROVIDER]: {
        issuer: TOKEN_ISSUER,
        audiences: [TOKEN_AUDIENCE],
        from_headers: [{ name: "Authorization", value_prefix: BEARER_PREFIX }],
        forward: true,
        clock_skew_seconds: 5,
        remote_jwks: {
          http_uri: {
            uri: `http://${hostOf("auth")}:${auth.httpPort}/v1/auth/jwks`,
            cluster: "auth",
            timeout: "1s",
          },
          // New keys are published twice this long before they sign (services/auth/key_ring.ts).
          cache_duration: `${JWKS_MAX_AGE_SECONDS}s`,
          // Fetched in the background; a failed refresh keeps the last set and retries.
          async_fetch: { failed_refetch_duration: "5s" },
          retry_policy: {
            num_retries: 3,
            retry_back_off: { base_interval: "0.5s", max_interval: "5s" },
          },
        },
      },
    },
    rules: [{
      match: { prefix: "/" },
      requires: {
        requires_any: { requirements: [{ provider_name: JWT_PROVIDER }, { allow_missing: {} }] },
      },
    }],
  };

  const hcm: Yaml = {
    "@type":
      "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
    stat_prefix: "edge",
    codec_type: "AUTO",
    use_remote_address: true,
    normalize_path: true,
    generate_request_id: true,
    preserve_external_request_id: true,
    always_set_request_id_in_response: true,
    request_headers_timeout: "10s",
    common_http_protocol_options: { headers_with_underscores_action: "DROP_HEADER" },
    tracing: {
      provider: {
        name: "envoy.tracers.opentelemetry",
        typed_config: {
          "@type": "type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig",
          grpc_service: { envoy_grpc: { cluster_name: OTEL_CLUSTER }, timeout: "0.5s" },
          service_name: "edge",
        },
      },
    },
    access_log: [{
      name: "envoy.access_loggers.stdout",
      typed_config: {
        "@type": "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog",
        log_format: {
          json_format: {
            time: "%START_TIME%",
            level: "info",
            service: "edge",
            logger: "stocklet.edge.access",
            msg: "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %RESPONSE_CODE%",
            method: "%REQ(:METHOD)%",
            path: "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%",
            status: "%RESPONSE_CODE%",
            duration_ms: "%DURATION%",
            request_id: `%REQ(${REQUEST_ID_HEADER.toUpperCase()})%`,
            upstream: "%UPSTREAM_CLUSTER%",
            route: "%ROUTE_NAME%",
            flags: "%RESPONSE_FLAGS%",
          },
        },
      },
    }],
    local_reply_config: localReplies(bodyLimit),
    route_config: {
      name: "edge",
      request_headers_to_remove: [...STRIPPED_REQUEST_HEADERS],
      virtual_hosts: [{
        name: "stocklet",
        domains: ["*"],
        typed_per_filter_config: {
          "envoy.filters.http.cors": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy",
            allow_origin_string_match: [{ safe_regex: { regex: ".*" } }],
            allow_methods: CORS_ALLOW_METHODS.join(", "),
            allow_headers: CORS_ALLOW_HEADERS.join(", "),
            expose_headers: CORS_EXPOSE_HEADERS.join(", "),
            max_age: String(CORS_MAX_AGE_SECONDS),
          },
        },
        routes: [
          ...routes.map((r) => routeOf(r, limited)),
          {
            name: "healthz",
            match: {
              path: "/healthz",
              headers: [{ name: ":method", string_match: { exact: "GET" } }],
            },
            direct_response: { status: 200, body: { inline_string: '{"status":"ok"}' } },
            response_headers_to_add: [{
              header: { key: "content-type", value: "application/json" },
              append_action: "OVERWRITE_IF_EXISTS_OR_ADD",
            }],
          },
          {
            name: "not_found",
            match: { safe_regex: { regex: "^/v1(/.*)?$" } },
            direct_response: { status: 404, body: { inline_string: "no route" } },
          },
          // The web front: its live order pages stream for as long as they are open.
          {
            name: "web_streams",
            match: { prefix: WEB.streamPrefix },
            route: {
              cluster: WEB.name,
              timeout: "0s",
              retry_policy: retryPolicyOf("GET"),
              // Pages count against the client address's bucket, like every API route.
              ...(limited ? { rate_limits: routeRateLimits(WEB.name) } : {}),
            },
            decorator: { operation: `GET ${WEB.streamPrefix}*` },
          },
          {
            name: "web",
            match: { prefix: "/" },
            route: {
              cluster: WEB.name,
              timeout: envoyDuration(DEFAULT_UPSTREAM_TIMEOUT_MS),
              // Pages and form posts alike: only what never reached the web front is tried again.
              retry_policy: retryPolicyOf("POST"),
              ...(limited ? { rate_limits: routeRateLimits(WEB.name) } : {}),
            },
            decorator: { operation: "web" },
          },
        ],
      }],
    },
    http_filters: [
      {
        name: "envoy.filters.http.cors",
        typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors" },
      },
      {
        name: "envoy.filters.http.lua",
        typed_config: {
          "@type": "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua",
          default_source_code: {
            inline_string: edgeLua(STRIPPED_REQUEST_HEADER_PREFIXES, login?.template ?? ""),
          },
        },
      },
      ...(rateLimits
        ? [{
          name: "envoy.filters.http.local_ratelimit",
          typed_config: rateLimitFilter(rateLimits),
        }]
        : []),
      {
        name: "envoy.filters.http.buffer",
        typed_config: {
          "@type": "type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer",
          max_request_bytes: bodyLimit,
        },
      },
      {
        name: "envoy.filters.http.jwt_authn",
        typed_config: {
          "@type":
            "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication",
          ...jwtAuthn,
        },
      },
      {
        name: "envoy.filters.http.router",
        typed_config: {
          "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router",
        },
      },
    ],
  };

  // No active health checks: a replica that is gone fails to connect, the request is tried on
  // another (retryPolicyOf) and the replica is ejected (OUTLIER_DETECTION), as the local edge skips
  // one that refused; with every replica gone the answer is 502 (UF), as locally.
  const endpointsFor = (name: ServiceName | "web", port: number): Endpoint[] => {
    const urls = opts.upstreams?.[name];
    return urls?.length ? endpointsOf(urls) : [{ host: hostOf(name), port }];
  };
  const outliers = { outlier_detection: { ...OUTLIER_DETECTION } };
  const clusters = SERVICES.filter((s) => used.has(s.name)).map((s) =>
    cluster(s.name, endpointsFor(s.name, s.httpPort), {
      ...outliers,
      circuit_breakers: { thresholds: [{ ...CIRCUIT_BREAKERS }] },
    })
  );
  clusters.push(cluster(WEB.name, endpointsFor(WEB.name, WEB.httpPort), outliers));
  clusters.push(cluster(OTEL_CLUSTER, [{ host: otel.host, port: otel.port }], {
    typed_extension_protocol_options: {
      "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
        "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
        explicit_http_config: { http2_protocol_options: {} },
      },
    },
  }));

  return {
    admin: { address: { socket_address: { address: "127.0.0.1", port_value: 9901 } } },
    // Runtime keys (RATE_LIMIT_RUNTIME_KEY): the defaults, then the admin interface
    // (`/runtime_modify`); compose appends a layer of its own with --config-yaml. Later layers win.
    layered_runtime: {
      layers: [
        { name: "defaults", static_layer: { [RATE_LIMIT_RUNTIME_KEY]: 100 } },
        { name: "admin", admin_layer: {} },
      ],
    },
    static_resources: {
      listeners: [{
        name: "edge",
        address: {
          socket_address: { address: "0.0.0.0", port_value: opts.port ?? DEFAULT_PORTS.edge },
        },
        filter_chains: [{
          filters: [{ name: "envoy.filters.network.http_connection_manager", typed_config: hcm }],
        }],
      }],
      clusters,
    },
  };
}

const HEADER =
  `# deploy/envoy/envoy.yaml — GENERATED by \`deno task gen\` from edge/routes.ts, edge/policy.ts
# and the proto annotations (edge/envoy.ts renders it). Do not edit: change the sources and regenerate.
# The local edge (edge/main.ts) serves the same routes with the same rules; edge/envoy_test.ts
# checks that the two agree.
`;

/**
 * The text of deploy/envoy/envoy.yaml.
 *
 * @param opts As for {@linkcode envoyConfig}.
 * @returns YAML text.
 */
export function renderEnvoyYaml(opts: EnvoyOptions = {}): string {
  const text = stringify(envoyConfig(opts), { lineWidth: 0, aliasDuplicateObjects: false });
  // Quote plain scalars that start with ":" (pseudo-headers): valid YAML 1.2, but not every
  // parser (yaml-cpp, which Envoy uses) agrees.
  return HEADER + text.replace(/^(\s*(?:- )?[\w@"-]+: )(:\S*)$/gm, '$1"$2"');
}
