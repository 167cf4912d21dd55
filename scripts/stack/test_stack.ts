/**
 * The stack the end-to-end tests run against: the `test` infrastructure profile, service-init for
 * every service, then the mail catcher, the eight services and the edge as detached processes on
 * the test ports.
 * A stack that already runs the same code is reused (a hash of the sources decides), so running
 * one test file after another stays fast; `deno task test` stops what it started.
 * @module
 */
import { join, relative } from "node:path";
import { DATABASE_OWNERS, SERVICE_NAMES, type ServiceName } from "@stocklet/shared/topology";
import { infraConfig, pgUrlOf } from "../infra/config.ts";
import { type InfraHandle, infraUp } from "../infra/mod.ts";
import { ROOT } from "../lib/paths.ts";
import { mailboxDirOf } from "../mail/mailbox.ts";
import { initServices } from "../service_init/mod.ts";
import { appPid, isReady, startApp, stopApp, waitReady } from "./apps.ts";
import { buildBundles } from "./bundle.ts";
import { ensureCollector, stopCollector } from "./collector.ts";
import {
  appEnv,
  type AppName,
  appStateDir,
  type BaseApp,
  baseOf,
  bundled,
  collectorPort,
  entryOf,
  everyApp,
  replicasOf,
  replicaSpec,
  type StackPorts,
  stackPorts,
} from "./config.ts";
import { topicPartitions } from "@stocklet/shared/kafka";
import { describePartitions, raisePartitions } from "./partitions.ts";

/** Settings the test stack's services run with (short timeouts so tests can observe them). */
export const TEST_SETTINGS = {
  adminEmail: "admin@stocklet.test",
  adminPassword: "test-admin-password",
  /** Saga timeout of the order service. */
  sagaTimeoutMs: 10_000,
  /** How often the order service looks for stalled sagas. */
  sweepIntervalMs: 1_000,
  /** Per-shipment unit limit of the shipping service. */
  maxUnitsPerShipment: 100,
  /** How often the idle relay writes a heartbeat. */
  relayHeartbeatMs: 2_000,
  /** How often the processes export metrics (tests that read them back wait for an export). */
  metricsIntervalMs: 1_000,
  /** The notification service's first retry delay and longest one after a failed send. */
  notificationRetryBaseMs: 200,
  notificationRetryMaxMs: 1_000,
} as const;

/** A running test stack. */
export interface TestStack {
  infra: InfraHandle;
  ports: StackPorts;
  /** The public door: the edge when it exists. */
  edgeUrl: string | undefined;
  /** A service's own REST gateway. */
  serviceUrl(svc: ServiceName): string;
  /** The mail catcher's mailbox (page and API). */
  mailboxUrl: string;
  /** The apps this call started (empty when reused). */
  started: AppName[];
  /** The collector every process exports traces and metrics to (`GET /api/metrics`). */
  collectorUrl?: string;
}

/**
 * Apps left out of the stack: `STOCKLET_WITHOUT`, a comma-separated list of app names (`web`,
 * `notification`, `mail`), e.g. to benchmark the same work the Go original does (it has neither a
 * web front nor notifications); `STOCKLET_WEB=off` is the same as `STOCKLET_WITHOUT=web`.
 */
export function appsLeftOut(): Set<BaseApp> {
  const out = new Set(
    (Deno.env.get("STOCKLET_WITHOUT") ?? "").split(",").map((s) => s.trim()).filter(Boolean),
  ) as Set<BaseApp>;
  if (Deno.env.get("STOCKLET_WEB") === "off") out.add("web");
  return out;
}

/** The application processes of the stack (the web front and the edge once they exist). */
export async function stackApps(): Promise<AppName[]> {
  const without = appsLeftOut();
  const apps: AppName[] = [
    "mail",
    ...SERVICE_NAMES.flatMap(replicasOf),
  ].filter((a) => !without.has(baseOf(a as AppName))) as AppName[];
  for (const app of ["web", "edge"] as const) {
    if (without.has(app)) continue;
    try {
      await Deno.stat(entryOf(app));
      apps.push(app);
    } catch { /* not there yet */ }
  }
  return apps;
}

async function sourceHash(): Promise<string> {
  const parts: string[] = [];
  async function walk(dir: string): Promise<void> {
    for await (const e of Deno.readDir(dir)) {
      const p = join(dir, e.name);
      if (e.isDirectory) await walk(p);
      else if (/\.(ts|tsx|sql|json|js|css|svg)$/.test(e.name) && !/_test\.tsx?$/.test(e.name)) {
        parts.push(relative(ROOT, p) + "\0" + await Deno.readTextFile(p));
      }
    }
  }
  for (
    const d of [
      "shared",
      "services",
      "edge",
      "web",
      "migrations",
      "scripts/service_init",
      "scripts/trace",
      "scripts/mail",
      "scripts/stack",
    ]
  ) {
    await walk(join(ROOT, d)).catch(() => {});
  }
  parts.sort();
  // Started with other replica or partition counts: not the same stack.
  parts.push(`replicas\0${replicaSpec()}`, `partitions\0${topicPartitions()}`);
  // Started from its sources (STOCKLET_BUNDLE=off) or from bundles: not the same stack either.
  parts.push(`bundled\0${bundled()}`);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(parts.join("\0")));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

const stampFile = () => join(appStateDir("test"), "stack.hash");

/** The environment of a test-stack process. */
function envOf(app: AppName, ports: StackPorts, infra: InfraHandle): Record<string, string> {
  return appEnv(app, ports, infra, {
    otlpEndpoint: `http://127.0.0.1:${collectorPort("test")}`,
    profile: "test",
    extra: {
      STOCKLET_ADMIN_EMAIL: TEST_SETTINGS.adminEmail,
      STOCKLET_ADMIN_PASSWORD: TEST_SETTINGS.adminPassword,
      ORDER_SAGA_TIMEOUT_MS: String(TEST_SETTINGS.sagaTimeoutMs),
      ORDER_SWEEP_INTERVAL_MS: String(TEST_SETTINGS.sweepIntervalMs),
      SHIPPING_MAX_UNITS_PER_SHIPMENT: String(TEST_SETTINGS.maxUnitsPerShipment),
      // The published test admin password is accepted here and in `deno task dev` only.
      STOCKLET_INSECURE_DEV_ADMIN: "true",
      // The edge's rate limits are off in the test stack: the suite, the bench and the chaos
      // suite all talk from one address. tests/e2e/rate_limit_test.ts runs an edge with them on.
      STOCKLET_RATE_LIMIT: "off",
      OTEL_METRIC_EXPORT_INTERVAL: String(TEST_SETTINGS.metricsIntervalMs),
      // Tests dispatch and deliver through the admin routes, never by the simulator.
      STOCKLET_COURIER: "off",
      NOTIFICATION_RETRY_BASE_MS: String(TEST_SETTINGS.notificationRetryBaseMs),
      NOTIFICATION_RETRY_MAX_MS: String(TEST_SETTINGS.notificationRetryMaxMs),
      LOG_LEVEL: Deno.env.get("LOG_LEVEL") ?? "info",
    },
  });
}

/**
 * Brings the test stack up (or reuses it): infrastructure, service-init, then every application
 * process, waiting until each is ready.
 */
export async function ensureTestStack(
  opts: { log?: (line: string) => void } = {},
): Promise<TestStack> {
  const log = opts.log ?? ((line: string) => console.error(line));
  const cfg = infraConfig("test");
  const infra = await infraUp(cfg, { onProgress: log });
  const ports = stackPorts("test");
  const apps = await stackApps();
  const hash = await sourceHash();
  const previous = await Deno.readTextFile(stampFile()).catch(() => "");
  const running = await Promise.all(
    apps.map(async (a) => appPid("test", a) !== undefined && await isReady(a, ports)),
  );
  const started: AppName[] = [];
  if (previous !== hash || running.some((r) => !r)) {
    log("test stack: service-init…");
    await initServices(DATABASE_OWNERS.map((o) => o.name), {
      adminUrl: pgUrlOf(cfg, "postgres"),
      connectUrl: infra.connectUrl,
      kafkaBrokers: infra.kafkaBrokers,
      // Short heartbeats: the relay tests watch an idle slot advance.
      heartbeatMs: TEST_SETTINGS.relayHeartbeatMs,
    });
    const t0 = performance.now();
    // Every process a stack may run, whatever STOCKLET_REPLICAS said when it started.
    for (const app of everyApp()) await stopApp("test", app);
    // Partitions are added only now, with no process running and no order in flight.
    const raised = describePartitions(
      await raisePartitions(infra.kafkaBrokers),
      topicPartitions(),
    );
    if (raised) log(`test stack: ${raised}`);
    log(`test stack: starting the collector, ${apps.join(", ")}…`);
    // A fresh collector with the fresh processes: its series start with them.
    await stopCollector("test");
    await ensureCollector("test");
    // A fresh mailbox with the fresh processes: earlier runs' mail only slows the mailbox down.
    await Deno.remove(mailboxDirOf("test"), { recursive: true }).catch(() => {});
    await buildBundles("test", apps, (l) => log(`test stack: ${l}`));
    for (const app of apps) {
      await startApp("test", app, envOf(app, ports, infra));
      started.push(app);
    }
    await Promise.all(apps.map((app) => waitReady("test", app, ports)));
    await Deno.mkdir(appStateDir("test"), { recursive: true });
    await Deno.writeTextFile(stampFile(), hash);
    log(`test stack: ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  // A stack left running by an older version has no collector yet.
  await ensureCollector("test");
  return {
    infra,
    ports,
    edgeUrl: apps.includes("edge") ? `http://127.0.0.1:${ports.edge}` : undefined,
    serviceUrl: (svc) => `http://127.0.0.1:${ports.http[svc]}`,
    mailboxUrl: `http://127.0.0.1:${ports.mailbox}`,
    started,
    collectorUrl: `http://127.0.0.1:${collectorPort("test")}`,
  };
}

/** Stops every application process of the test stack. */
export async function stopTestStack(): Promise<void> {
  const apps = await stackApps();
  // The stack's apps first, edge first; then any replica an earlier setting started.
  for (const app of [...apps].reverse()) await stopApp("test", app);
  for (const app of everyApp().filter((a) => !apps.includes(a))) await stopApp("test", app);
  await stopCollector("test");
  await Deno.remove(stampFile()).catch(() => {});
}

/** Restarts one application process of the test stack with its usual environment. */
export async function restartTestApp(
  app: AppName,
  infra: InfraHandle,
  signal: Deno.Signal = "SIGTERM",
): Promise<void> {
  const ports = stackPorts("test");
  await stopApp("test", app, signal);
  await startApp("test", app, envOf(app, ports, infra));
  await waitReady("test", app, ports);
}
