import assert from "node:assert/strict";
import { ConfigError } from "@stocklet/shared/config";
import { loadEdgeConfig, upstreamVar } from "./config.ts";
import { DEFAULT_RATE_LIMITS } from "./policy.ts";

Deno.test("loadEdgeConfig() defaults follow the topology", () => {
  const cfg = loadEdgeConfig({});
  assert.equal(cfg.host, "127.0.0.1");
  assert.equal(cfg.port, 8080);
  assert.deepEqual(cfg.upstreams, {
    auth: ["http://127.0.0.1:8091"],
    order: ["http://127.0.0.1:8092"],
    payment: ["http://127.0.0.1:8093"],
    product: ["http://127.0.0.1:8094"],
    shipping: ["http://127.0.0.1:8095"],
    user: ["http://127.0.0.1:8096"],
    warehouse: ["http://127.0.0.1:8097"],
    notification: ["http://127.0.0.1:8098"],
  });
  assert.equal(cfg.web, "http://127.0.0.1:8090");
  assert.equal(cfg.jwksUrl, "http://127.0.0.1:8091/v1/auth/jwks");
  assert.deepEqual(cfg.corsOrigins, ["*"]);
  assert.equal(cfg.bodyLimitBytes, 1024 * 1024);
  assert.equal(cfg.timeoutMs, 10_000);
  assert.equal(cfg.accessLog, true);
  assert.deepEqual(cfg.rateLimits, DEFAULT_RATE_LIMITS, "rate limits are on by default");
});

Deno.test("loadEdgeConfig() reads the rate limit switch and overrides", () => {
  assert.equal(loadEdgeConfig({ STOCKLET_RATE_LIMIT: "off" }).rateLimits, false);
  const on = loadEdgeConfig({
    STOCKLET_RATE_LIMIT: "on",
    STOCKLET_RATE_LIMITS: "login-account=5/60",
  });
  assert.deepEqual(on.rateLimits && on.rateLimits["login-account"], {
    requests: 5,
    windowSeconds: 60,
  });
  assert.throws(() => loadEdgeConfig({ STOCKLET_RATE_LIMIT: "maybe" }), /STOCKLET_RATE_LIMIT/);
  assert.throws(() => loadEdgeConfig({ STOCKLET_RATE_LIMITS: "x=1/1" }), /STOCKLET_RATE_LIMITS/);
});

Deno.test("loadEdgeConfig() reads overrides; the JWKS follows AUTH_HTTP_URL", () => {
  const cfg = loadEdgeConfig({
    STOCKLET_EDGE_PORT: "9000",
    ORDER_HTTP_URL: "http://order-1:8092/, http://order-2:8092",
    WEB_HTTP_URL: "http://web:8090/",
    AUTH_HTTP_URL: "http://auth:8091",
    STOCKLET_CORS_ORIGINS: "https://a.example, https://b.example",
    STOCKLET_EDGE_MAX_BODY_BYTES: "2048",
    STOCKLET_EDGE_TIMEOUT_MS: "500",
    STOCKLET_EDGE_ACCESS_LOG: "false",
    STOCKLET_EDGE_CLOSE_REFUSED_ABOVE: "0",
  });
  assert.equal(cfg.port, 9000);
  assert.equal(cfg.closeRefusedAbove, 0);
  assert.equal(loadEdgeConfig({}).closeRefusedAbove, 128);
  assert.deepEqual(cfg.upstreams.order, ["http://order-1:8092", "http://order-2:8092"]);
  assert.equal(cfg.web, "http://web:8090");
  assert.equal(cfg.jwksUrl, "http://auth:8091/v1/auth/jwks");
  assert.deepEqual(cfg.corsOrigins, ["https://a.example", "https://b.example"]);
  assert.equal(cfg.bodyLimitBytes, 2048);
  assert.equal(cfg.timeoutMs, 500);
  assert.equal(cfg.accessLog, false);
  assert.equal(
    loadEdgeConfig({ AUTH_JWKS_URL: "http://keys:1/jwks" }).jwksUrl,
    "http://keys:1/jwks",
  );
});

Deno.test("loadEdgeConfig() reports every bad variable at once", () => {
  assert.throws(
    () => loadEdgeConfig({ PRODUCT_HTTP_URL: "ftp://x", STOCKLET_EDGE_PORT: "0" }),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.problems.length, 2);
      assert.match(e.problems.join("\n"), /PRODUCT_HTTP_URL/);
      assert.match(e.problems.join("\n"), /STOCKLET_EDGE_PORT/);
      return true;
    },
  );
});

Deno.test("upstreamVar() names the per-service variable", () => {
  assert.equal(upstreamVar("warehouse"), "WAREHOUSE_HTTP_URL");
});
