import assert from "node:assert/strict";
import { bool, ConfigError, int, list, loadConfig, oneOf, port, str, url } from "./config.ts";

const spec = {
  name: str("NAME"),
  httpPort: port("HTTP_PORT", { default: 8080 }),
  workers: int("WORKERS", { min: 1, max: 8, default: 2 }),
  debug: bool("DEBUG", { default: false }),
  db: url("DATABASE_URL", { protocols: ["postgres", "postgresql"] }),
  brokers: list("KAFKA_BROKERS"),
  level: oneOf("LOG_LEVEL", ["debug", "info"] as const, { default: "info" }),
};

Deno.test("loadConfig() parses values and applies defaults", () => {
  const cfg = loadConfig(spec, {
    NAME: "order",
    DATABASE_URL: "postgres://u:p@h:5432/d",
    KAFKA_BROKERS: "a:1, b:2,",
    DEBUG: "yes",
  });
  assert.deepEqual(cfg, {
    name: "order",
    httpPort: 8080,
    workers: 2,
    debug: true,
    db: "postgres://u:p@h:5432/d",
    brokers: ["a:1", "b:2"],
    level: "info",
  });
});

Deno.test("loadConfig() reports every missing or invalid variable in one error", () => {
  assert.throws(
    () =>
      loadConfig(spec, {
        HTTP_PORT: "99999",
        WORKERS: "two",
        DATABASE_URL: "http://x",
        LOG_LEVEL: "loud",
      }),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.deepEqual(e.problems, [
        "NAME is required",
        "HTTP_PORT must be ≤ 65535",
        'WORKERS must be an integer, got "two"',
        "DATABASE_URL must use postgres or postgresql",
        "KAFKA_BROKERS is required",
        'LOG_LEVEL must be one of debug, info, got "loud"',
      ]);
      return true;
    },
  );
});
