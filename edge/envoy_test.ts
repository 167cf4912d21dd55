/**
 * deploy/envoy/envoy.yaml and the local edge must not drift: this parses the committed file (as
 * Envoy would read it, not as the generator built it) and checks its routes, clusters and rules
 * against the local route table and policy.
 */
import assert from "node:assert/strict";
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from "@stocklet/shared/auth";
import { codeOfHttpStatus } from "@stocklet/shared/errors";
import { SERVICES, WEB } from "@stocklet/shared/topology";
import { isWebPath } from "./app.ts";
import { DEFAULT_UPSTREAM_MAX_PENDING, DEFAULT_UPSTREAM_MAX_REQUESTS } from "./upstream_limit.ts";
import { parse } from "yaml";
import {
  envoyConfig,
  OUTLIER_DETECTION,
  RATE_LIMIT_RUNTIME_KEY,
  renderEnvoyYaml,
  retryPolicyOf,
  tokenBucketOf,
} from "./envoy.ts";
import {
  BEARER_PREFIX,
  CORS_ALLOW_HEADERS,
  CORS_ALLOW_METHODS,
  DEFAULT_BODY_LIMIT_BYTES,
  DEFAULT_RATE_LIMITS,
  LOGIN_ACCOUNT_HEADER,
  type RateLimitName,
  rateLimitsOf,
  STRIPPED_REQUEST_HEADER_PREFIXES,
  STRIPPED_REQUEST_HEADERS,
} from "./policy.ts";
import { edgeRoutes, routerOf } from "./routes.ts";

const FILE = new URL("../deploy/envoy/envoy.yaml", import.meta.url);

// deno-lint-ignore no-explicit-any
type Any = any;

const text = await Deno.readTextFile(FILE);
const doc: Any = parse(text);
const listener: Any = doc.static_resources.listeners[0];
const hcm: Any = listener.filter_chains[0].filters[0].typed_config;
const vhost: Any = hcm.route_config.virtual_hosts[0];
const envoyRoutes: Any[] = vhost.routes;
const filters: Any[] = hcm.http_filters;
const filter = (name: string): Any => filters.find((f) => f.name === name)?.typed_config;

/** Envoy's route selection: the first route whose path and headers match. */
function envoyMatch(method: string, path: string): Any | undefined {
  return envoyRoutes.find((r) => {
    const m = r.match;
    const pathOk = m.safe_regex
      ? new RegExp(m.safe_regex.regex).test(path) // RE2 syntax used here is JS-compatible
      : m.path !== undefined
      ? m.path === path
      : path.startsWith(m.prefix);
    const headersOk = (m.headers ?? []).every((h: Any) =>
      h.name === ":method" ? h.string_match.exact === method : false
    );
    return pathOk && headersOk;
  });
}

Deno.test("envoy.yaml is what `deno task gen` renders", () => {
  assert.equal(text, renderEnvoyYaml(), "run `deno task gen`");
});

Deno.test("envoy.yaml has one route per public route, in the local edge's order", () => {
  const local = edgeRoutes();
  const api = envoyRoutes.filter((r) => r.route && r.route.cluster !== "web");
  assert.equal(api.length, local.length);
  local.forEach((route, i) => {
    const r = api[i];
    assert.equal(r.name, route.rpc);
    assert.equal(r.match.safe_regex.regex, route.pattern);
    assert.deepEqual(r.match.headers, [{ name: ":method", string_match: { exact: route.verb } }]);
    assert.equal(r.route.cluster, route.service);
    assert.equal(r.route.timeout, `${route.timeoutMs / 1000}s`);
  });
  // Then /healthz, then 404 for any other API path: nothing else reaches a service. The rest goes
  // to the web front, its event streams without a timeout.
  const [health, notFound, streams, web] = envoyRoutes.slice(api.length);
  assert.equal(health.match.path, "/healthz");
  assert.equal(health.direct_response.status, 200);
  assert.deepEqual(notFound.match, { safe_regex: { regex: "^/v1(/.*)?$" } });
  assert.equal(notFound.direct_response.status, 404);
  assert.deepEqual(streams.match, { prefix: WEB.streamPrefix });
  const byAddress = [{ actions: [{ remote_address: {} }] }];
  assert.deepEqual(streams.route, {
    cluster: "web",
    timeout: "0s",
    retry_policy: retryPolicyOf("GET"),
    rate_limits: byAddress,
  });
  assert.deepEqual(web.match, { prefix: "/" });
  assert.deepEqual(web.route, {
    cluster: "web",
    timeout: "10s",
    retry_policy: retryPolicyOf("POST"),
    rate_limits: byAddress,
  });
  assert.equal(envoyRoutes.length, api.length + 4);
});

Deno.test("envoy.yaml and the local router send every request to the same place", () => {
  const router = routerOf(edgeRoutes());
  const samples: Array<[string, string]> = [];
  for (const r of edgeRoutes()) {
    const path = r.template.replace(/\{[^}]+\}/g, "x1");
    for (const verb of ["GET", "POST", "PATCH", "PUT", "DELETE"]) samples.push([verb, path]);
    samples.push([r.verb, path + "/"], [r.verb, path + "/extra"], [r.verb, path.slice(0, -1)]);
  }
  samples.push(["GET", "/"], ["GET", "/readyz"], ["GET", "/v1/product"], ["GET", "/v1"]);
  samples.push(["GET", "/orders/x1"], ["GET", "/events/orders/x1"], ["POST", "/cart"]);
  for (const [verb, path] of samples) {
    const local = router.match(verb, path);
    const envoy = envoyMatch(verb, path);
    const where = `${verb} ${path}`;
    if (local) {
      assert.equal(envoy?.name, local.rpc, where);
      assert.equal(envoy?.route?.cluster, local.service, where);
    } else if (isWebPath(path)) {
      assert.equal(envoy?.route?.cluster, "web", where);
    } else {
      assert.ok(envoy && !envoy.route, `${where}: envoy must not route it`);
      if (path !== "/healthz") assert.equal(envoy.direct_response.status, 404, where);
    }
  }
});

Deno.test("envoy.yaml clusters are the services at their compose host names and ports", () => {
  const clusters: Any[] = doc.static_resources.clusters;
  for (const s of SERVICES) {
    const c = clusters.find((x) => x.name === s.name);
    assert.ok(c, `cluster ${s.name}`);
    const addr = c.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address;
    assert.deepEqual(addr, { address: s.name, port_value: s.httpPort });
  }
  const web = clusters.find((x) => x.name === "web");
  assert.deepEqual(
    web.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address,
    { address: "web", port_value: WEB.httpPort },
  );
  const otel = clusters.find((x) => x.name === "otel_collector");
  const addr = otel.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address;
  assert.deepEqual(addr, { address: "otel-collector", port_value: 4317 });
  assert.ok(
    otel.typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]
      .explicit_http_config.http2_protocol_options,
  );
  assert.equal(listener.address.socket_address.port_value, 8080);
});

Deno.test("envoy.yaml bounds each service's calls in progress and waiting as the local edge does", () => {
  const clusters: Any[] = doc.static_resources.clusters;
  const services = clusters.filter((c) => SERVICES.some((s) => s.name === c.name));
  assert.ok(services.length >= 7, `${services.length} service clusters`);
  for (const c of services) {
    const name = c.name;
    const [t] = c.circuit_breakers.thresholds;
    assert.equal(t.max_connections, DEFAULT_UPSTREAM_MAX_REQUESTS, name);
    assert.equal(t.max_requests, DEFAULT_UPSTREAM_MAX_REQUESTS, name);
    assert.equal(t.max_pending_requests, DEFAULT_UPSTREAM_MAX_PENDING, name);
  }
});

Deno.test("envoy.yaml ejects a replica that fails and retries on another what never reached one", () => {
  const clusters: Any[] = doc.static_resources.clusters;
  for (const name of [...SERVICES.map((s) => s.name), "web"]) {
    const c = clusters.find((x) => x.name === name);
    assert.deepEqual(c.outlier_detection, OUTLIER_DETECTION, name);
    // Envoy counts gateway failures but ejects on them only when told to.
    assert.equal(c.outlier_detection.enforcing_consecutive_gateway_failure, 100);
    assert.equal(c.lb_policy, "ROUND_ROBIN");
  }
  const api = envoyRoutes.filter((r) => r.route && r.route.cluster !== "web");
  assert.ok(api.some((r) => r.match.headers[0].string_match.exact === "POST"));
  for (const r of api) {
    const verb = r.match.headers[0].string_match.exact;
    const p = r.route.retry_policy;
    const on = new Set(p.retry_on.split(","));
    // Never after the upstream may have acted on it, for a method that is not safe to repeat.
    if (verb === "GET") {
      assert.deepEqual(on, new Set(["connect-failure", "refused-stream", "reset"]), r.name);
    } else {
      assert.deepEqual(
        on,
        new Set(["connect-failure", "refused-stream", "reset-before-request"]),
        r.name,
      );
    }
    for (const dangerous of ["5xx", "gateway-error", "retriable-status-codes"]) {
      assert.ok(!on.has(dangerous), `${r.name}: ${dangerous}`);
    }
    assert.equal(p.num_retries, 2);
    assert.equal(p.retry_host_predicate[0].name, "envoy.retry_host_predicates.previous_hosts");
    assert.equal(
      p.retry_host_predicate[0].typed_config["@type"],
      "type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate",
    );
  }
});

Deno.test("envoyConfig() puts every replica a URL list names in its service's cluster", () => {
  const cfg: Any = envoyConfig({
    upstreams: {
      order: ["http://10.0.0.5:8092", "http://10.0.0.6:8142/"],
      web: ["http://web-a:8090"],
    },
  });
  const clusters: Any[] = cfg.static_resources.clusters;
  const addresses = (name: string) =>
    clusters.find((c) => c.name === name).load_assignment.endpoints[0].lb_endpoints.map((
      e: Any,
    ) => e.endpoint.address.socket_address);
  assert.deepEqual(addresses("order"), [
    { address: "10.0.0.5", port_value: 8092 },
    { address: "10.0.0.6", port_value: 8142 },
  ]);
  assert.deepEqual(addresses("web"), [{ address: "web-a", port_value: 8090 }]);
  assert.deepEqual(addresses("payment"), [{ address: "payment", port_value: 8093 }]);
});

Deno.test("envoy.yaml checks tokens like the local edge: Bearer, issuer, audience, allow_missing", () => {
  const jwt = filter("envoy.filters.http.jwt_authn");
  const providers = Object.entries(jwt.providers) as Array<[string, Any]>;
  assert.equal(providers.length, 1);
  const [name, p] = providers[0]!;
  assert.equal(p.issuer, TOKEN_ISSUER);
  assert.deepEqual(p.audiences, [TOKEN_AUDIENCE]);
  assert.deepEqual(p.from_headers, [{ name: "Authorization", value_prefix: BEARER_PREFIX }]);
  assert.equal(p.forward, true, "services verify the token again");
  assert.equal(p.forward_payload_header, undefined, "no identity header is ever added");
  assert.equal(p.remote_jwks.http_uri.uri, "http://auth:8091/v1/auth/jwks");
  assert.equal(p.remote_jwks.http_uri.cluster, "auth");
  assert.deepEqual(jwt.rules, [{
    match: { prefix: "/" },
    requires: { requires_any: { requirements: [{ provider_name: name }, { allow_missing: {} }] } },
  }]);
  // CORS answers preflights before the token check; the router comes last.
  const order = filters.map((f) => f.name);
  assert.ok(
    order.indexOf("envoy.filters.http.cors") < order.indexOf("envoy.filters.http.jwt_authn"),
  );
  assert.equal(order.at(-1), "envoy.filters.http.router");
});

Deno.test("envoy.yaml strips the same identity headers", () => {
  assert.deepEqual(hcm.route_config.request_headers_to_remove, [...STRIPPED_REQUEST_HEADERS]);
  const lua: string = filter("envoy.filters.http.lua").default_source_code.inline_string;
  for (const prefix of STRIPPED_REQUEST_HEADER_PREFIXES) assert.ok(lua.includes(`"${prefix}"`));
  assert.equal(hcm.common_http_protocol_options.headers_with_underscores_action, "DROP_HEADER");
});

Deno.test("envoy.yaml has request ids, tracing, the body limit and CORS of the local edge", () => {
  assert.equal(hcm.generate_request_id, true);
  assert.equal(hcm.preserve_external_request_id, true);
  assert.equal(hcm.always_set_request_id_in_response, true);
  assert.equal(hcm.tracing.provider.name, "envoy.tracers.opentelemetry");
  assert.equal(
    hcm.tracing.provider.typed_config.grpc_service.envoy_grpc.cluster_name,
    "otel_collector",
  );
  assert.equal(filter("envoy.filters.http.buffer").max_request_bytes, DEFAULT_BODY_LIMIT_BYTES);
  const cors = vhost.typed_per_filter_config["envoy.filters.http.cors"];
  assert.equal(cors.allow_methods, CORS_ALLOW_METHODS.join(", "));
  assert.equal(cors.allow_headers, CORS_ALLOW_HEADERS.join(", "));
  assert.ok(hcm.access_log[0].typed_config.log_format.json_format.request_id);
});

Deno.test("envoy.yaml answers its own errors in the error body shape with the edge's codes", () => {
  const mappers: Any[] = hcm.local_reply_config.mappers;
  const byStatus = new Map<number, Any>();
  for (const m of mappers) {
    const status = m.status_code ?? m.filter.status_code_filter?.comparison.value.default_value;
    const body = JSON.parse(
      m.body_format_override.text_format_source.inline_string.replace("%LOCAL_REPLY_BODY%", "m"),
    );
    assert.equal(m.body_format_override.content_type, "application/json");
    assert.deepEqual(Object.keys(body), ["code", "message", "details"]);
    assert.equal(body.code, codeOfHttpStatus(status), `status ${status}`);
    byStatus.set(status, m);
  }
  for (const status of [401, 404, 413, 502, 503, 504]) assert.ok(byStatus.has(status), `${status}`);
  // A refused connection is 502, as in the local edge (Envoy says 503 by default).
  const refused = mappers.find((m) => m.filter.response_flag_filter?.flags.includes("UF"));
  assert.equal(refused.status_code, 502);
});

Deno.test("envoy.yaml rate-limits like the local edge: per address, per login account (issue 13 #4)", () => {
  const rl = filter("envoy.filters.http.local_ratelimit");
  assert.ok(rl, "the local rate limit filter is configured");
  const order = filters.map((f) => f.name);
  // After the Lua filter (which names the login's account), before any token is verified.
  assert.ok(
    order.indexOf("envoy.filters.http.lua") < order.indexOf("envoy.filters.http.local_ratelimit"),
  );
  assert.ok(
    order.indexOf("envoy.filters.http.local_ratelimit") <
      order.indexOf("envoy.filters.http.jwt_authn"),
  );
  assert.equal(rl.filter_enabled.runtime_key, RATE_LIMIT_RUNTIME_KEY);
  assert.equal(rl.filter_enforced.runtime_key, RATE_LIMIT_RUNTIME_KEY);
  assert.equal(rl.always_consume_default_token_bucket, false);
  assert.equal(doc.layered_runtime.layers[0].static_layer[RATE_LIMIT_RUNTIME_KEY], 100);
  assert.ok(
    doc.layered_runtime.layers.some((l: Any) => "admin_layer" in l),
    "runtime_modify works",
  );
  // One wildcard descriptor (a bucket per value) per limit, with the policy's bucket.
  const byLimit = new Map<string, Any>();
  for (const d of rl.descriptors) {
    const named = d.entries.find((e: Any) => e.key === "limit")?.value ?? "address";
    assert.ok(d.entries.some((e: Any) => e.value === ""), `${named} has a wildcard entry`);
    byLimit.set(named, d);
  }
  for (const [name, limit] of Object.entries(DEFAULT_RATE_LIMITS)) {
    assert.deepEqual(byLimit.get(name)?.token_bucket, tokenBucketOf(limit), name);
  }
  assert.deepEqual(
    byLimit.get("login-account").entries.map((e: Any) => e.key),
    ["limit", "account"],
  );
  // Every route produces the descriptors of the limits its RPC counts against.
  for (const route of envoyRoutes.filter((r) => r.route)) {
    const made: string[] = route.route.rate_limits.map((rl: Any) => {
      const generic = rl.actions.find((a: Any) => a.generic_key)?.generic_key;
      if (generic) return generic.descriptor_value;
      assert.ok(rl.actions[0].remote_address, route.name);
      return "address";
    });
    assert.deepEqual(made, [...rateLimitsOf(route.name)], route.name);
  }
  const login = envoyRoutes.find((r) => r.name === "stocklet.auth.v1.AuthService.LoginPassword");
  const account = login.route.rate_limits.find((r: Any) =>
    r.actions.some((a: Any) => a.request_headers)
  );
  assert.equal(account.actions[1].request_headers.header_name, LOGIN_ACCOUNT_HEADER);
  // The Lua filter fills that header from the login's body, never from the client, and turns the
  // limiter's reset into Retry-After.
  const lua: string = filter("envoy.filters.http.lua").default_source_code.inline_string;
  assert.ok(lua.includes('local LOGIN_PATH = "/v1/auth/login"'));
  assert.ok(lua.includes("headers:remove(ACCOUNT_HEADER)"));
  assert.ok(lua.includes('headers:replace("retry-after", reset)'));
  assert.ok(hcm.route_config.request_headers_to_remove.includes(LOGIN_ACCOUNT_HEADER));
  assert.equal(
    rl.response_headers_to_add[0].header.key,
    "retry-after",
    "a Retry-After even before Lua refines it",
  );
});

Deno.test("tokenBucketOf() keeps the burst and the rate in whole-second fills", () => {
  const check = (name: RateLimitName) => {
    const limit = DEFAULT_RATE_LIMITS[name];
    const b = tokenBucketOf(limit);
    const seconds = Number(String(b.fill_interval).replace(/s$/, ""));
    assert.ok(Number.isInteger(seconds) && seconds >= 1, name);
    assert.equal(b.max_tokens, limit.requests);
    const rate = (b.tokens_per_fill as number) / seconds;
    const wanted = limit.requests / limit.windowSeconds;
    assert.ok(Math.abs(rate - wanted) / wanted < 0.5, `${name}: ${rate} vs ${wanted} per s`);
  };
  for (const name of Object.keys(DEFAULT_RATE_LIMITS) as RateLimitName[]) check(name);
  assert.deepEqual(tokenBucketOf({ requests: 10, windowSeconds: 300 }), {
    max_tokens: 10,
    tokens_per_fill: 1,
    fill_interval: "30s",
  });
});
