/**
 * The web front's configuration, from the environment (defaults match `deno task dev`).
 *
 * | Variable | Default |
 * |---|---|
 * | `BIND_HOST` | `127.0.0.1` |
 * | `HTTP_PORT` | `8090` |
 * | `DATABASE_URL` | `postgres://stocklet_web:stocklet@127.0.0.1:55432/stocklet` (its role and schema) |
 * | `KAFKA_BROKERS` | `127.0.0.1:39092` |
 * | `AUTH_JWKS_URL` | `http://127.0.0.1:8091/v1/auth/jwks` |
 * | `<SVC>_HTTP_URL` (e.g. `ORDER_HTTP_URL`) | `http://127.0.0.1:<httpPort from topology>` |
 * | `STOCKLET_TRACE_URL` | unset: the order page shows the `deno task trace <id>` command |
 * @module
 */
import { configParts, list, port, serviceUrlSpec, str, url } from "@stocklet/shared/config";
import {
  DEFAULT_PORTS,
  placementOf,
  type ServiceName,
  serviceSpec,
  WEB,
} from "@stocklet/shared/topology";

/** The web front's settings. */
export interface WebConfig {
  host: string;
  port: number;
  databaseUrl: string;
  kafkaBrokers: string[];
  /** Where access tokens' keys are published. */
  jwksUrl: string;
  /** Base URL of each service's REST gateway (no trailing slash): pages read through them. */
  /** Base URLs of each service's replicas. */
  upstreams: Record<ServiceName, string[]>;
  /**
   * Where an order's trace is shown, with `{order_id}` in place of the order's id (Jaeger's search
   * in compose); empty: the page shows the `deno task trace <id>` command instead.
   */
  traceUrl: string;
}

/**
 * Reads the configuration; throws one ConfigError listing every bad variable.
 *
 * @example
 * ```ts
 * const cfg = loadWebConfig({ ORDER_HTTP_URL: "http://order:8092" });
 * cfg.upstreams.order; // ["http://order:8092"]
 * ```
 */
export function loadWebConfig(
  env: Record<string, string | undefined> = Deno.env.toObject(),
): WebConfig {
  const parts = configParts(env);
  const upstreams = parts.load(serviceUrlSpec());
  const auth = serviceSpec("auth");
  const rest = parts.load<Omit<WebConfig, "upstreams">>({
    host: str("BIND_HOST", { default: "127.0.0.1" }),
    port: port("HTTP_PORT", { default: WEB.httpPort }),
    databaseUrl: url("DATABASE_URL", {
      protocols: ["postgres", "postgresql"],
      default: `postgres://${
        placementOf(WEB.name).role
      }:stocklet@127.0.0.1:${DEFAULT_PORTS.postgres}/${placementOf(WEB.name).database}`,
    }),
    kafkaBrokers: list("KAFKA_BROKERS", { default: [`127.0.0.1:${DEFAULT_PORTS.kafka}`] }),
    jwksUrl: url("AUTH_JWKS_URL", {
      protocols: ["http", "https"],
      default: `http://127.0.0.1:${auth.httpPort}/v1/auth/jwks`,
    }),
    traceUrl: {
      ...str("STOCKLET_TRACE_URL", { default: "" }),
      parse(raw: string): string {
        if (!raw.includes("{order_id}")) throw new Error("must contain {order_id}");
        url("STOCKLET_TRACE_URL", { protocols: ["http", "https"] })
          .parse(raw.replaceAll("{order_id}", "x"));
        return raw;
      },
    },
  });
  parts.done();
  return { ...rest!, upstreams: upstreams! };
}
