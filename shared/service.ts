/**
 * A service's process: its common configuration, then one call that serves its handlers over gRPC
 * and REST, runs its reactions and background tasks, and shuts all of it down cleanly on SIGINT or
 * SIGTERM (HTTP first, then consumers drain, then gRPC, then the database pool).
 * {@linkcode runService} is a whole `main.ts`: every service's is one call of it.
 *
 * @example
 * ```ts
 * await runService("shipping", {
 *   config: { maxUnits: int("SHIPPING_MAX_UNITS_PER_SHIPMENT", { default: 100 }) },
 *   bindings: (sql) => [shippingRpc(sql)],
 *   reactions: (config) => shippingReactions(config.maxUnits),
 * });
 * ```
 * @module
 */
import { cachingVerifier, jwksVerifier, type TokenVerifier } from "./auth.ts";
import { type ConsumerRuntime, purgeInbox, startConsumer } from "./consumer/mod.ts";
import { connectDb, type Sql } from "./db.ts";
import { purgeOutbox } from "./outbox.ts";
import { int, list, loadConfig, port, str, url, type Var } from "./config.ts";
import { getLog, setupLogging } from "./logging.ts";
import type { Reaction } from "./consumer/reaction.ts";
import { type GrpcServer, startGrpcServer } from "./server/grpc.ts";
import type { ServiceBinding } from "./server/handler.ts";
import type { ReadinessChecks } from "./server/health.ts";
import { restApp } from "./server/rest.ts";
import { DEFAULT_PORTS, placementOf, relayOf, type ServiceName, serviceSpec } from "./topology.ts";
import { relayProblem, RelayWatch } from "./relay_watch.ts";
import { watchConsumerLag, watchOutbox, watchProcess } from "./metrics/mod.ts";
import { trimNativeHeapEvery } from "./native_heap.ts";

const log = getLog("service");

/** The configuration every service reads. */
export interface CommonConfig {
  /** Interface to bind (`BIND_HOST`, default 127.0.0.1; 0.0.0.0 in containers). */
  host: string;
  /** REST gateway port (`HTTP_PORT`). */
  httpPort: number;
  /** gRPC port (`GRPC_PORT`). */
  grpcPort: number;
  /** `DATABASE_URL`, e.g. postgres://stocklet:stocklet@127.0.0.1:55432/order. */
  databaseUrl: string;
  /** `KAFKA_BROKERS`, comma-separated host:port. */
  kafkaBrokers: string[];
  /** `AUTH_JWKS_URL`: where access tokens' keys are published. */
  jwksUrl: string;
  /** `OUTBOX_SLOT`: the replication slot that relays its outbox (services with an outbox). */
  outboxSlot: string;
  /** `OUTBOX_RELAY_MAX_LAG_MS`: readiness fails when the relay is further behind. */
  relayMaxLagMs: number;
  /** `DB_POOL_MAX`: connections to PostgreSQL at most (the topology's default per service). */
  dbPoolMax: number;
}

/** The variable specs of {@linkcode CommonConfig}, with defaults that match the dev stack. */
export function commonConfig(
  name: ServiceName,
): { [K in keyof CommonConfig]: Var<CommonConfig[K]> } {
  const spec = serviceSpec(name);
  const auth = serviceSpec("auth");
  const place = placementOf(name);
  return {
    host: str("BIND_HOST", { default: "127.0.0.1" }),
    httpPort: port("HTTP_PORT", { default: spec.httpPort }),
    grpcPort: port("GRPC_PORT", { default: spec.grpcPort }),
    databaseUrl: url("DATABASE_URL", {
      protocols: ["postgres", "postgresql"],
      default: `postgres://${place.role}:stocklet@127.0.0.1:${DEFAULT_PORTS.postgres}/${
        encodeURIComponent(place.database)
      }`,
    }),
    kafkaBrokers: list("KAFKA_BROKERS", { default: [`127.0.0.1:${DEFAULT_PORTS.kafka}`] }),
    jwksUrl: url("AUTH_JWKS_URL", {
      protocols: ["http", "https"],
      default: `http://127.0.0.1:${auth.httpPort}/v1/auth/jwks`,
    }),
    outboxSlot: str("OUTBOX_SLOT", { default: spec.outbox ? relayOf(name).slot : "" }),
    relayMaxLagMs: int("OUTBOX_RELAY_MAX_LAG_MS", { default: 60_000, min: 1_000 }),
    dbPoolMax: int("DB_POOL_MAX", { default: spec.dbPool, min: 1, max: 100 }),
  };
}

/** A background loop; it must return soon after the signal aborts. */
export type BackgroundTask = (signal: AbortSignal) => Promise<void>;

/**
 * Resolves after ms, or at once when the signal aborts. A pause that runs out takes its abort
 * listener off the signal: background loops pause on one signal that lives as long as the
 * process (the order service's admission loop ten times a second), and every listener left on it
 * kept its timer and closures alive (about 1 KiB each, 36 MiB an hour in the order service).
 *
 * @example
 * ```ts
 * while (!signal.aborted) {
 *   await refresh();
 *   await pause(100, signal);
 * }
 * ```
 */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const aborted = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", aborted);
      resolve();
    }, ms);
    signal.addEventListener("abort", aborted, { once: true });
  });
}

/**
 * Every 2 s, follows the relay's slot and deletes the outbox rows it confirmed (never one it has
 * not relayed: with the relay down or its slot lost, rows stay until it is repaired).
 *
 * Several replicas run it at once, safely and without coordination: it is an idempotent set delete
 * (`created_at` below a watermark), so two replicas delete the same rows and the second finds them
 * gone; and each replica's watermark already waits for every open transaction of the service's
 * role (`pg_stat_activity` of `current_user`: every replica's connections), so no replica deletes
 * a row another replica is still writing. A lock would only save a few duplicate scans.
 */
export function outboxPurger(sql: Sql, watch: RelayWatch): BackgroundTask {
  return async (signal) => {
    let warned: string | undefined;
    while (!signal.aborted) {
      await pause(2_000, signal);
      if (signal.aborted) return;
      try {
        const state = await watch.tick();
        if (state.slot !== "ok" && state.slot !== warned) {
          log.warn("outbox relay slot {slot} is {state}", { slot: watch.slot, state: state.slot });
        }
        warned = state.slot === "ok" ? undefined : state.slot;
        if (state.relayedBefore) await purgeOutbox(sql, state.relayedBefore);
      } catch (error) {
        log.warn("outbox purge failed: {error}", { error });
      }
    }
  };
}

/**
 * Every minute, deletes inbox rows older than the consumed topics' replay horizon: Kafka no longer
 * holds their events, so no redelivery can need them. Several replicas run it at once, safely:
 * an idempotent set delete by age (no row it deletes can be needed by any member of the group,
 * whichever replica applied it).
 */
export function inboxPurger(sql: Sql, horizonMs: number, intervalMs = 60_000): BackgroundTask {
  return async (signal) => {
    while (!signal.aborted) {
      await pause(intervalMs, signal);
      if (signal.aborted || !Number.isFinite(horizonMs)) return;
      await purgeInbox(sql, horizonMs).catch((error) =>
        log.warn("inbox purge failed: {error}", { error })
      );
    }
  };
}

/** Options for {@linkcode startService}. */
export interface ServiceOptions {
  name: ServiceName;
  config: CommonConfig;
  sql: Sql;
  bindings: ServiceBinding[];
  reactions?: readonly Reaction[];
  /** Background loops (e.g. a saga timeout sweeper). */
  tasks?: readonly BackgroundTask[];
  /** How tokens are verified. Default: the auth service's JWKS at `config.jwksUrl`. */
  verifier?: TokenVerifier;
  /** Extra readiness checks besides the database and Kafka. */
  readiness?: ReadinessChecks;
  /** Install SIGINT/SIGTERM handlers that stop the service and exit. @default true */
  handleSignals?: boolean;
  /** Called once everything stopped (before exit when handling signals). */
  onStopped?: () => Promise<void>;
}

/** A running service. */
export interface RunningService {
  readonly httpPort: number;
  readonly grpcPort: number;
  readonly consumer: ConsumerRuntime | undefined;
  /** Stops everything, in order; safe to call twice. */
  stop(): Promise<void>;
}

/** Starts the gRPC server, the REST gateway, the consumers and the background tasks. */
export async function startService(opts: ServiceOptions): Promise<RunningService> {
  const { config: cfg, sql } = opts;
  const verifier = opts.verifier ?? cachingVerifier(jwksVerifier({ jwks: cfg.jwksUrl }));
  const consumer = opts.reactions?.length
    ? await startConsumer({
      service: opts.name,
      brokers: cfg.kafkaBrokers,
      sql,
      reactions: opts.reactions,
    })
    : undefined;

  const grpc: GrpcServer = await startGrpcServer({
    bindings: opts.bindings,
    verifier,
    host: cfg.host,
    port: cfg.grpcPort,
  });

  const relay = serviceSpec(opts.name).outbox ? new RelayWatch(sql, cfg.outboxSlot) : undefined;
  const startedAt = Date.now();
  const stopTrimming = trimNativeHeapEvery();
  // Gauges read at export time (nothing runs when metrics are off).
  const unwatch = [
    watchProcess(opts.name),
    ...(relay ? [watchOutbox(sql, relay)] : []),
  ];
  const unwatchLag = consumer
    ? watchConsumerLag({
      brokers: cfg.kafkaBrokers,
      group: consumer.group,
      topics: opts.reactions!.map((r) => r.topic),
    })
    : () => Promise.resolve();
  const readiness: ReadinessChecks = {
    db: () => sql`select 1`,
    ...(consumer ? { kafka: () => consumer.healthy() } : {}),
    ...(relay
      ? {
        relay: () => {
          const problem = relayProblem(relay.state, { maxLagMs: cfg.relayMaxLagMs, startedAt });
          return problem ? Promise.reject(new Error(problem)) : Promise.resolve();
        },
      }
      : {}),
    ...opts.readiness,
  };
  const app = restApp({ bindings: opts.bindings, verifier, readiness });
  app.get("/metrics", (c) => c.json({ service: opts.name, consumer: consumer?.stats() ?? null }));
  const http = new AbortController();
  const server = Deno.serve({
    hostname: cfg.host,
    port: cfg.httpPort,
    signal: http.signal,
    onListen: () => {},
  }, app.fetch);

  const tasksStop = new AbortController();
  const background = [...(opts.tasks ?? [])];
  if (relay) background.push(outboxPurger(sql, relay));
  if (consumer) background.push(inboxPurger(sql, consumer.replayHorizonMs));
  const tasks = background.map((task) =>
    task(tasksStop.signal).catch((error) => log.error("background task failed: {error}", { error }))
  );

  log.info("{service} serving HTTP on {host}:{httpPort}, gRPC on {grpcPort}", {
    service: opts.name,
    host: cfg.host,
    httpPort: cfg.httpPort,
    grpcPort: grpc.port,
    consumes: opts.reactions?.map((r) => r.topic) ?? [],
  });

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    stopped ??= (async () => {
      log.info("{service} stopping", { service: opts.name });
      grpc.setServing(false);
      http.abort();
      await server.finished.catch(() => {});
      tasksStop.abort();
      await Promise.all(tasks);
      for (const stopWatching of unwatch) stopWatching();
      stopTrimming();
      await unwatchLag();
      await consumer?.stop();
      await grpc.close();
      await sql.end({ timeout: 5 });
      await opts.onStopped?.();
      log.info("{service} stopped", { service: opts.name });
    })();

  if (opts.handleSignals ?? true) {
    const onSignal = () => {
      stop().finally(() => Deno.exit(0));
    };
    Deno.addSignalListener("SIGINT", onSignal);
    Deno.addSignalListener("SIGTERM", onSignal);
    globalThis.addEventListener("error", (e) => {
      // An uncaught exception inside a client library's socket callback (postgres.js can throw
      // one while a connection dies: porsager/postgres#1154) must not take the service down.
      e.preventDefault();
      log.error("uncaught exception: {error}", { error: e.error ?? e.message });
    });
    globalThis.addEventListener("unhandledrejection", (e) => {
      // A stray rejection (e.g. inside a client library) is logged, never fatal.
      e.preventDefault();
      log.error("unhandled rejection: {error}", { error: e.reason });
    });
  }

  return { httpPort: cfg.httpPort, grpcPort: grpc.port, consumer, stop };
}

/**
 * The parts {@linkcode runService} builds a service from, given its pool, its configuration and
 * what its asynchronous setup prepared (`P`, when it has one).
 */
export interface ServiceParts<X extends Record<string, unknown>, P = undefined> {
  /** The variables the service reads besides the common ones. */
  config?: { [K in keyof X]: Var<X[K]> };
  /**
   * Setup that must finish before the service serves (a key ring loaded from the database, an
   * account created): what it returns is handed to the other parts. A failure stops the start.
   */
  prepare?(sql: Sql, config: CommonConfig & X): Promise<P>;
  /** Its RPC handlers. */
  bindings(sql: Sql, config: CommonConfig & X, prepared: P): ServiceBinding[];
  /** Its reactions (topic → saga step). */
  reactions?(config: CommonConfig & X): Reaction[];
  /** Its background loops. */
  tasks?(sql: Sql, config: CommonConfig & X, prepared: P): BackgroundTask[];
  /** How it verifies tokens. Default: the auth service's JWKS at `config.jwksUrl`. */
  verifier?(config: CommonConfig & X, prepared: P): TokenVerifier;
  /** Called once everything stopped (to close what `prepare` opened). */
  onStopped?(prepared: P): Promise<void>;
}

/**
 * A service's whole `main.ts`: its configuration (the common variables and its own, all checked
 * at once), logging, a database pool, its setup if it has one, then {@linkcode startService} with
 * its parts.
 *
 * @example
 * ```ts
 * await runService("auth", {
 *   config: { userGrpcAddr: str("USER_GRPC_ADDR") },
 *   prepare: async (sql) => ({ keys: await openKeyRing(sql, {}) }),
 *   bindings: (_sql, _config, { keys }) => [authRpc(keys)],
 * });
 * ```
 */
export async function runService<
  X extends Record<string, unknown> = Record<never, never>,
  P = undefined,
>(
  name: ServiceName,
  parts: ServiceParts<X, P>,
): Promise<RunningService> {
  const config = loadConfig<CommonConfig & X>(
    {
      ...commonConfig(name),
      ...parts.config,
    } as { [K in keyof (CommonConfig & X)]: Var<(CommonConfig & X)[K]> },
  );
  setupLogging(name);
  const sql = connectDb(config.databaseUrl, { max: config.dbPoolMax });
  let prepared: P;
  try {
    prepared = parts.prepare ? await parts.prepare(sql, config) : undefined as P;
  } catch (error) {
    await sql.end({ timeout: 1 }).catch(() => {});
    throw error;
  }
  return startService({
    name,
    config,
    sql,
    bindings: parts.bindings(sql, config, prepared),
    ...(parts.reactions ? { reactions: parts.reactions(config) } : {}),
    ...(parts.tasks ? { tasks: parts.tasks(sql, config, prepared) } : {}),
    ...(parts.verifier ? { verifier: parts.verifier(config, prepared) } : {}),
    ...(parts.onStopped ? { onStopped: () => parts.onStopped!(prepared) } : {}),
  });
}
