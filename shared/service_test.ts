import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "./config.ts";
import { commonConfig, pause, runService } from "./service.ts";
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

Deno.test("pause: one that runs out leaves no listener on the signal; an abort ends one at once", async () => {
  const stop = new AbortController();
  const signal = stop.signal;
  let listening = 0;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((...args: Parameters<typeof add>) => {
    listening++;
    add(...args);
  }) as typeof add;
  signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
    listening--;
    remove(...args);
  }) as typeof remove;
  for (let i = 0; i < 20; i++) await pause(1, signal);
  assert.equal(listening, 0, "every pause that ran out took its listener off");

  const t0 = performance.now();
  const long = pause(60_000, signal);
  stop.abort();
  await long;
  assert.ok(performance.now() - t0 < 1_000, "the abort ended the pause (and cleared its timer)");
  await pause(60_000, signal); // already aborted: at once
});

Deno.test("runService: a setup that fails stops the start before anything serves", async () => {
  // Nothing listens on port 1: the pool never connects (it connects lazily), and no server starts.
  const before = {
    DATABASE_URL: Deno.env.get("DATABASE_URL"),
    LOG_LEVEL: Deno.env.get("LOG_LEVEL"),
  };
  Deno.env.set("DATABASE_URL", "postgres://nobody:nothing@127.0.0.1:1/none");
  Deno.env.set("LOG_LEVEL", "error");
  let built = 0;
  try {
    await assert.rejects(
      runService("product", {
        prepare: () => Promise.reject(new Error("the key ring cannot be opened")),
        bindings: () => {
          built++;
          return [];
        },
        tasks: () => {
          built++;
          return [];
        },
      }),
      /the key ring cannot be opened/,
    );
    assert.equal(built, 0, "no handler or task was built");
  } finally {
    for (const [name, value] of Object.entries(before)) {
      if (value === undefined) Deno.env.delete(name);
      else Deno.env.set(name, value);
    }
  }
});
