/**
 * The web front: the storefront and the admin console, served through the edge at `/`.
 * Config → database → the live hub (LISTEN) → the saga projection (its own consumer group) and the
 * dead-letter reader → pages. On SIGINT/SIGTERM: live streams end, HTTP stops, consumers drain,
 * the pool closes.
 * @module
 */
import { cachingVerifier, jwksVerifier } from "@stocklet/shared/auth";
import { startConsumer } from "@stocklet/shared/consumer";
import { connectDb } from "@stocklet/shared/db";
import { getLog, setupLogging } from "@stocklet/shared/logging";
import { trimNativeHeapEvery } from "@stocklet/shared/native_heap";
import { WEB } from "@stocklet/shared/topology";
import { servicesClient } from "./api.ts";
import { webApp } from "./app.tsx";
import { loadAssets } from "./assets.ts";
import { loadWebConfig } from "./config.ts";
import { startDeadLetterReader } from "./dead_letters.ts";
import { features } from "./features.ts";
import { listenHub } from "./live.ts";
import { webReactions } from "./reactions.ts";

if (import.meta.main) {
  const config = loadWebConfig();
  setupLogging(WEB.name);
  trimNativeHeapEvery();
  const log = getLog("web");
  const sql = connectDb(config.databaseUrl);
  const hub = await listenHub(sql);
  const consumer = await startConsumer({
    service: WEB.name,
    brokers: config.kafkaBrokers,
    sql,
    reactions: webReactions(),
  });
  const deadLetters = startDeadLetterReader({ brokers: config.kafkaBrokers, sql });
  const app = webApp({
    sql,
    services: servicesClient(config.upstreams),
    verifier: cachingVerifier(jwksVerifier({ jwks: config.jwksUrl })),
    hub,
    assets: await loadAssets(),
    features: features(),
    traceUrl: config.traceUrl,
    deadLetters,
    ready: async () => {
      await sql`select 1`;
      await consumer.healthy();
    },
  });
  const http = new AbortController();
  const server = Deno.serve({
    hostname: config.host,
    port: config.port,
    signal: http.signal,
    onListen: () =>
      log.info("web serving HTTP on {host}:{port}", { host: config.host, port: config.port }),
  }, app.fetch);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    stopping ??= (async () => {
      log.info("web stopping");
      await hub.stop(); // ends the live streams, which would hold the server open
      http.abort();
      await server.finished.catch(() => {});
      await consumer.stop();
      await deadLetters.stop();
      await sql.end({ timeout: 5 });
      log.info("web stopped");
    })();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => {
      stop().finally(() => Deno.exit(0));
    });
  }
  globalThis.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    log.error("unhandled rejection: {error}", { error: e.reason });
  });
}
