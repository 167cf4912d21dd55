import assert from "node:assert/strict";
import { ConfigError } from "@stocklet/shared/config";
import { loadWebConfig } from "./config.ts";

Deno.test("loadWebConfig() defaults follow the topology and the dev stack", () => {
  const cfg = loadWebConfig({});
  assert.equal(cfg.port, 8090);
  assert.equal(cfg.host, "127.0.0.1");
  assert.equal(cfg.databaseUrl, "postgres://stocklet_web:stocklet@127.0.0.1:55432/stocklet");
  assert.deepEqual(cfg.upstreams.order, ["http://127.0.0.1:8092"]);
  assert.equal(cfg.jwksUrl, "http://127.0.0.1:8091/v1/auth/jwks");
  assert.equal(cfg.traceUrl, "");
});

Deno.test("loadWebConfig() reads overrides and refuses a trace URL without {order_id}", () => {
  const cfg = loadWebConfig({
    HTTP_PORT: "9000",
    ORDER_HTTP_URL: "http://order:8092/",
    STOCKLET_TRACE_URL: "http://localhost:16686/search?tags={order_id}",
  });
  assert.equal(cfg.port, 9000);
  assert.deepEqual(cfg.upstreams.order, ["http://order:8092"]);
  assert.equal(cfg.traceUrl, "http://localhost:16686/search?tags={order_id}");
  assert.throws(
    () => loadWebConfig({ STOCKLET_TRACE_URL: "http://jaeger/", PRODUCT_HTTP_URL: "ftp://x" }),
    (e: unknown) =>
      e instanceof ConfigError && e.problems.length === 2 &&
      e.problems.some((p) => p.includes("STOCKLET_TRACE_URL must contain {order_id}")),
  );
});
