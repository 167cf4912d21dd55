/**
 * Starting and stopping the local edge: the handler on one port, with the JWKS verifier, the
 * access log, the OpenAPI document from docs/openapi.json and Swagger UI.
 * @module
 */
import { jwksVerifier, type TokenVerifier } from "@stocklet/shared/auth";
import { getLog } from "@stocklet/shared/logging";
import { accessLog, batchedWriter } from "./access_log.ts";
import { edgeHandler } from "./app.ts";
import type { EdgeConfig } from "./config.ts";
import { docsHandler } from "./docs.ts";
import { edgeRoutes } from "./routes.ts";

/** The committed OpenAPI document (written by `deno task gen`). */
export const OPENAPI_FILE: URL = new URL("../docs/openapi.json", import.meta.url);

/** A running edge. */
export interface RunningEdge {
  /** The port it listens on. */
  readonly port: number;
  /** Stops accepting, finishes in-flight requests and flushes the access log. */
  stop(): Promise<void>;
}

/** Overrides for {@linkcode startEdge} (tests inject their own verifier). */
export interface StartEdgeOptions {
  /** @default jwksVerifier({ jwks: config.jwksUrl }) */
  verifier?: TokenVerifier;
  /** The OpenAPI text. @default the contents of docs/openapi.json, else generated */
  openapi?: string;
}

async function readOpenApi(): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(OPENAPI_FILE);
  } catch {
    return undefined;
  }
}

/**
 * Serves the edge.
 *
 * @example
 * ```ts
 * const edge = await startEdge(loadEdgeConfig());
 * await edge.stop();
 * ```
 */
export async function startEdge(
  config: EdgeConfig,
  opts: StartEdgeOptions = {},
): Promise<RunningEdge> {
  const log = getLog("edge");
  const writer = batchedWriter();
  const openapi = opts.openapi ?? await readOpenApi();
  if (openapi === undefined) log.warn("docs/openapi.json not found; serving a generated document");
  const streams = new AbortController();
  const handler = edgeHandler({
    upstreams: config.upstreams,
    web: config.web,
    streams: streams.signal,
    verifier: opts.verifier ?? jwksVerifier({ jwks: config.jwksUrl }),
    routes: edgeRoutes({ timeoutMs: config.timeoutMs }),
    corsOrigins: config.corsOrigins,
    bodyLimitBytes: config.bodyLimitBytes,
    accessLog: config.accessLog ? accessLog(writer) : false,
    rateLimits: config.rateLimits,
    upstreamLimits: {
      maxRequests: config.upstreamMaxRequests,
      maxPending: config.upstreamMaxPending,
    },
    closeRefusedAbove: config.closeRefusedAbove,
    docs: docsHandler(),
    ...(openapi !== undefined ? { openapi } : {}),
  });
  const server = Deno.serve({
    hostname: config.host,
    port: config.port,
    onListen: ({ port }) =>
      log.info("edge listening on {host}:{port}", { host: config.host, port }),
  }, handler);
  let stopped: Promise<void> | undefined;
  return {
    port: server.addr.port,
    stop(): Promise<void> {
      // Open streams (live order pages) would hold the shutdown forever: end them; browsers
      // reconnect to the next edge.
      stopped ??= (async () => {
        const shutdown = server.shutdown();
        streams.abort();
        await shutdown.finally(() => writer.flush());
      })();
      return stopped;
    },
  };
}
