import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "./config.ts";
import { commonConfig } from "./service.ts";
import { SERVICES } from "./topology.ts";

Deno.test("DB_POOL_MAX: each service's own default, overridable, never below one connection", () => {
  const pools = Object.fromEntries(
    SERVICES.map((s) => [s.name, loadConfig(commonConfig(s.name), {}).dbPoolMax]),
  );
  // The order service takes every place as a transaction; the consumers need few connections.
  assert.equal(pools.order, 5);
  for (const [name, max] of Object.entries(pools)) {
    assert.ok(max >= 2 && max <= pools.order!, `${name}: ${max}`);
  }
  assert.equal(loadConfig(commonConfig("payment"), { DB_POOL_MAX: "8" }).dbPoolMax, 8);
  assert.throws(
    () => loadConfig(commonConfig("payment"), { DB_POOL_MAX: "0" }),
    (e) => e instanceof ConfigError && /DB_POOL_MAX/.test(e.message),
  );
});
