/**
 * The application processes of a stack (the eight services and their replicas, the web front, the
 * edge and the mail catcher): their ports per profile and the environment each one is started with.
 * `dev` uses the topology's ports; `test` shifts them by 10000 (18091…, 19191…, edge 18080, SMTP
 * 12525, mailbox 18025), so a running dev stack and the tests never collide. A service's replica k
 * (`STOCKLET_REPLICAS`) listens on its ports + 50·k.
 * @module
 */
import { join, relative } from "node:path";
import {
  DEFAULT_PORTS,
  httpUrlVar,
  SERVICE_NAMES,
  type ServiceName,
  serviceSpec,
  WEB,
} from "@stocklet/shared/topology";
import { type InfraProfile, testPortShift } from "../infra/config.ts";
import { ROOT, STATE_DIR } from "../lib/paths.ts";
import { mailboxDirOf } from "../mail/mailbox.ts";

/** An application process of the stack, but for replicas: a service, the web front, the edge, or the mail catcher. */
export type BaseApp = ServiceName | "web" | "edge" | "mail";

/** An application process: a base app, or replica k ≥ 1 of a service (`order@1`). */
export type AppName = BaseApp | `${ServiceName}@${number}`;

/** The app a process is (a replica's service). */
export function baseOf(app: AppName): BaseApp {
  const at = app.indexOf("@");
  return (at < 0 ? app : app.slice(0, at)) as BaseApp;
}

/** Which replica of its service a process is (0 for the first, and for non-services). */
export function replicaOf(app: AppName): number {
  const at = app.indexOf("@");
  return at < 0 ? 0 : Number(app.slice(at + 1));
}

/** A replica's ports are its service's + this × its number. */
export const REPLICA_PORT_STEP = 50;

/** The most replicas of one service a stack runs (their ports must stay clear of the next shift). */
export const MAX_REPLICAS = 3;

/**
 * How many replicas of a service the stack runs: `STOCKLET_REPLICAS`, either one number for every
 * service (`2`) or per service (`order=2,payment=3`); 1 otherwise. At most 3 (their ports must stay
 * clear of the next test port shift).
 */
export function replicaCount(
  svc: ServiceName,
  raw: string = Deno.env.get("STOCKLET_REPLICAS") ?? "",
): number {
  if (!raw.trim()) return 1;
  const parse = (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > MAX_REPLICAS) {
      throw new Error(`STOCKLET_REPLICAS=${raw}: replicas must be 1 to ${MAX_REPLICAS}`);
    }
    return n;
  };
  if (/^\d+$/.test(raw.trim())) return parse(raw.trim());
  for (const part of raw.split(",")) {
    const [name, n] = part.split("=").map((x) => x.trim());
    if (!name || n === undefined || !(SERVICE_NAMES as readonly string[]).includes(name)) {
      throw new Error(`STOCKLET_REPLICAS=${raw}: expected N or service=N,…`);
    }
    if (name === svc) return parse(n);
  }
  return 1;
}

/** The processes of a service: `order`, then `order@1`, `order@2`… */
export function replicasOf(svc: ServiceName): AppName[] {
  return Array.from(
    { length: replicaCount(svc) },
    (_, k) => k === 0 ? svc : `${svc}@${k}` as const,
  );
}

/**
 * Every process a stack may run, whatever `STOCKLET_REPLICAS` says now: stopping a stack stops
 * these, so replicas started under an earlier, larger setting never linger in their groups.
 */
export function everyApp(): AppName[] {
  const replicas = SERVICE_NAMES.flatMap((svc) =>
    Array.from({ length: MAX_REPLICAS - 1 }, (_, k) => `${svc}@${k + 1}` as const)
  );
  return ["mail", ...SERVICE_NAMES, ...replicas, "web", "edge"];
}

/**
 * The replica counts in effect, every service named (`auth=1,order=2,…`): part of what a running
 * stack was started with, so a stack started with other counts is not reused as is.
 */
export function replicaSpec(): string {
  return SERVICE_NAMES.map((svc) => `${svc}=${replicaCount(svc)}`).join(",");
}

/** Ports of one profile's application processes. */
export interface StackPorts {
  http: Record<ServiceName, number>;
  grpc: Record<ServiceName, number>;
  /** The web front (storefront and admin console). */
  web: number;
  edge: number;
  /** The mail catcher's SMTP port (the notification service sends there). */
  smtp: number;
  /** The mail catcher's mailbox page and API. */
  mailbox: number;
}

/** What the stack's processes need to reach the infrastructure. */
export interface InfraEndpoints {
  /** A service's own database URL (its role on its database). */
  serviceDbUrl(service: string): string;
  /** The same through the Unix socket: what the stack's processes, beside PostgreSQL, use. */
  serviceDbSocketUrl(service: string): string;
  kafkaBrokers: string[];
}

/** The port shift of the `test` profile's application processes. */
export const TEST_APP_PORT_OFFSET = 10_000;

/** The application ports of a profile. */
export function stackPorts(profile: InfraProfile): StackPorts {
  const shift = profile === "test" ? TEST_APP_PORT_OFFSET + testPortShift() : 0;
  const http = {} as Record<ServiceName, number>;
  const grpc = {} as Record<ServiceName, number>;
  for (const name of SERVICE_NAMES) {
    http[name] = serviceSpec(name).httpPort + shift;
    grpc[name] = serviceSpec(name).grpcPort + shift;
  }
  const fromEnv = (name: string, fallback: number) =>
    profile === "test" ? fallback + shift : Number(Deno.env.get(name) ?? fallback);
  return {
    http,
    grpc,
    web: WEB.httpPort + shift,
    edge: fromEnv("STOCKLET_EDGE_PORT", DEFAULT_PORTS.edge),
    smtp: fromEnv("STOCKLET_SMTP_PORT", DEFAULT_PORTS.smtp),
    mailbox: fromEnv("STOCKLET_MAILBOX_PORT", DEFAULT_PORTS.mailbox),
  };
}

/** The mailbox page of a profile's mail catcher. */
export function mailboxUrl(profile: InfraProfile): string {
  return `http://127.0.0.1:${stackPorts(profile).mailbox}`;
}

/**
 * The port of a profile's OTLP/HTTP collector (traces and metrics): `STOCKLET_OTLP_PORT` or 4318
 * in dev; shifted like the test stack's other ports in test (14318 + the port shift).
 */
export function collectorPort(profile: InfraProfile): number {
  return profile === "test"
    ? DEFAULT_PORTS.otlp + TEST_APP_PORT_OFFSET + testPortShift()
    : Number(Deno.env.get("STOCKLET_OTLP_PORT") ?? DEFAULT_PORTS.otlp);
}

/**
 * How often the stack's processes export metrics (ms): `STOCKLET_METRICS_INTERVAL_MS`, default 2000
 * (the OpenTelemetry default, 60 s, is too slow for a live dashboard; an export is one small POST).
 */
export function metricsIntervalMs(): number {
  return Number(Deno.env.get("STOCKLET_METRICS_INTERVAL_MS") ?? 2000);
}

/** Where a profile keeps its application processes' logs and pid files. */
export function appStateDir(profile: InfraProfile): string {
  if (profile !== "test") return join(STATE_DIR, "stack");
  // A shifted test stack is another stack (e.g. the scale-out test's, beside the suite's own).
  const shift = testPortShift();
  return join(STATE_DIR, shift ? `test-stack-${shift}` : "test-stack");
}

/** The entry point of an application process. */
export function entryOf(app: AppName): string {
  const base = baseOf(app);
  if (base === "edge" || base === "web") return join(ROOT, base, "main.ts");
  if (base === "mail") return join(ROOT, "scripts", "mail", "catcher.ts");
  return join(ROOT, "services", base, "main.ts");
}

/**
 * Whether the application processes run from bundles (`STOCKLET_BUNDLE`, default on; `off` runs
 * the sources, e.g. to read a CPU profile by module). See `bundle.ts` for why.
 */
export function bundled(): boolean {
  return Deno.env.get("STOCKLET_BUNDLE") !== "off";
}

/** Whether an application process can run from a bundle (every one but the mail catcher, a tool). */
export function bundleable(app: AppName): boolean {
  return baseOf(app) !== "mail";
}

/** The folder a profile's stack builds its apps' bundles into (in its state folder). */
export function buildDirOf(profile: InfraProfile): string {
  return join(appStateDir(profile), "build");
}

/**
 * Where a profile keeps the bundle of an application process: in its build folder, at its entry's
 * path relative to the repository (`…/build/services/order/main.js`), so that files a module finds
 * relative to itself resolve within the build folder.
 */
export function bundleFileOf(app: AppName, profile: InfraProfile): string {
  return bundleOfEntry(relative(ROOT, entryOf(app)), buildDirOf(profile));
}

/** Where the app image keeps its bundles (deploy/docker/Dockerfile builds them; compose, Kubernetes). */
export const IMAGE_BUNDLE_DIR = "dist";

/**
 * The bundle of an entry module in a build folder, at the entry's relative path.
 *
 * @example
 * ```ts
 * bundleOfEntry("services/order/main.ts", IMAGE_BUNDLE_DIR); // "dist/services/order/main.js"
 * ```
 */
export function bundleOfEntry(entry: string, dir: string): string {
  return `${dir}/${entry.replace(/\.ts$/, ".js")}`;
}

/** The HTTP port an application process listens on. */
export function httpPortOf(app: AppName, ports: StackPorts): number {
  const base = baseOf(app);
  if (base === "edge") return ports.edge;
  if (base === "web") return ports.web;
  if (base === "mail") return ports.mailbox;
  return ports.http[base] + REPLICA_PORT_STEP * replicaOf(app);
}

/** The gRPC port of a service's process. */
export function grpcPortOf(app: AppName, ports: StackPorts): number {
  return ports.grpc[baseOf(app) as ServiceName] + REPLICA_PORT_STEP * replicaOf(app);
}

/** Options for {@linkcode appEnv}. */
export interface AppEnvOptions {
  /** Variables added to (and overriding) every process's environment. */
  extra?: Record<string, string>;
  /** OTLP/HTTP endpoint to export traces and metrics to; both are off without one. */
  otlpEndpoint?: string;
  /** Whose stack (where the mail catcher keeps its mailbox). @default "dev" */
  profile?: InfraProfile;
}

/** The environment an application process starts with. */
export function appEnv(
  app: AppName,
  ports: StackPorts,
  infra: InfraEndpoints,
  opts: AppEnvOptions = {},
): Record<string, string> {
  const local = (p: number) => `http://127.0.0.1:${p}`;
  const env: Record<string, string> = {
    KAFKA_BROKERS: infra.kafkaBrokers.join(","),
    AUTH_JWKS_URL: `${local(ports.http.auth)}/v1/auth/jwks`,
    LOG_LEVEL: Deno.env.get("LOG_LEVEL") ?? "info",
    OTEL_SERVICE_NAME: baseOf(app),
    // Replicas of one service tell their telemetry apart.
    OTEL_RESOURCE_ATTRIBUTES: `service.instance.id=${app}`,
  };
  if (opts.otlpEndpoint) {
    env.OTEL_DENO = "true";
    env.OTEL_EXPORTER_OTLP_ENDPOINT = opts.otlpEndpoint;
    env.OTEL_EXPORTER_OTLP_PROTOCOL = "http/json";
    // Export spans every second (the default is 5 s), so `deno task trace` sees an order at once.
    env.OTEL_BSP_SCHEDULE_DELAY = "1000";
    env.OTEL_METRIC_EXPORT_INTERVAL = String(metricsIntervalMs());
  }
  // Every replica of a service, as a list (the callers go round robin: shared/balancer.ts).
  const urlsOf = (svc: ServiceName) =>
    replicasOf(svc).map((r) => local(httpPortOf(r, ports))).join(",");
  if (app === "edge" || app === "web") {
    // Both call the services over REST; the edge also hands the web front its pages.
    for (const name of SERVICE_NAMES) env[httpUrlVar(name)] = urlsOf(name);
  }
  if (app === "edge") {
    env.STOCKLET_EDGE_PORT = String(ports.edge);
    env[httpUrlVar("web")] = local(ports.web);
  } else if (app === "web") {
    env.HTTP_PORT = String(ports.web);
    env.DATABASE_URL = infra.serviceDbSocketUrl("web");
  } else if (app === "mail") {
    env.STOCKLET_SMTP_PORT = String(ports.smtp);
    env.STOCKLET_MAILBOX_PORT = String(ports.mailbox);
    env.STOCKLET_MAILBOX_DIR = mailboxDirOf(opts.profile ?? "dev");
  } else {
    const svc = baseOf(app) as ServiceName;
    env.HTTP_PORT = String(httpPortOf(app, ports));
    env.GRPC_PORT = String(grpcPortOf(app, ports));
    env.DATABASE_URL = infra.serviceDbSocketUrl(svc);
    if (svc === "auth") {
      env.USER_GRPC_ADDR = replicasOf("user").map((r) => `127.0.0.1:${grpcPortOf(r, ports)}`)
        .join(",");
    }
    if (svc === "notification") env.NOTIFICATION_SMTP_URL = `smtp://127.0.0.1:${ports.smtp}`;
  }
  return { ...env, ...opts.extra };
}

/**
 * The V8 flags of every application process (the local stacks, compose, Kubernetes): a young
 * generation that may grow to 4 MiB semi-spaces, and an old generation that grows by only 10 %
 * over what a full collection leaves live, so a service's heap stays near its live size.
 *
 * Not `--optimize-for-size`, which we used before: it also pins the young generation at about
 * 1 MiB whatever `--max-semi-space-size` says (`--trace-gc`: 0.8 MB freed per scavenge, 33
 * scavenges a second in the order service at 120 orders/s, a fifth of its CPU) and trades JIT
 * speed for code size. Measured with the bench at 150 orders/s: 10.8 → 10.6 ms of CPU per order
 * over the whole stack, closed-loop peak 178–206 → 236 orders/s, about 60 MiB more PSS over the
 * busy services at the peak.
 */
export const APP_V8_FLAGS = "--max-semi-space-size=4,--heap-growing-percent=10";

/**
 * V8 flags of the application processes (`STOCKLET_V8_FLAGS`, default {@linkcode APP_V8_FLAGS}).
 */
export function appV8Flags(): string {
  return Deno.env.get("STOCKLET_V8_FLAGS") ?? APP_V8_FLAGS;
}

/**
 * The inspector port of an app from `STOCKLET_INSPECT` (`order:9230,edge:9231`), to attach a
 * profiler or debugger to a running stack (`scripts/profile.ts`).
 */
export function inspectPortOf(app: AppName): number | undefined {
  for (const part of (Deno.env.get("STOCKLET_INSPECT") ?? "").split(",")) {
    const [name, port] = part.split(":");
    if (name === app && Number(port) > 0) return Number(port);
  }
  return undefined;
}

/**
 * The `deno run` arguments of an application process: its bundle (built by `buildBundles` when
 * the stack starts) unless `STOCKLET_BUNDLE=off`, else its entry module.
 */
export function appArgs(app: AppName, profile: InfraProfile): string[] {
  const v8 = appV8Flags();
  const inspect = inspectPortOf(app);
  return [
    "run",
    "-A",
    "--no-prompt",
    ...(v8 ? [`--v8-flags=${v8}`] : []),
    ...(inspect ? [`--inspect=127.0.0.1:${inspect}`] : []),
    bundled() && bundleable(app) ? bundleFileOf(app, profile) : entryOf(app),
  ];
}
