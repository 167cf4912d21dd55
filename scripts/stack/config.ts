/**
 * The application processes of a stack (the seven services, the web front and the edge): their ports per profile
 * and the environment each one is started with. `dev` uses the topology's ports; `test` shifts
 * them by 10000 (18091…, 19191…, edge 18080), so a running dev stack and the tests never collide.
 * @module
 */
import { join } from "node:path";
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

/** An application process of the stack. */
export type AppName = ServiceName | "web" | "edge";

/** Ports of one profile's application processes. */
export interface StackPorts {
  http: Record<ServiceName, number>;
  grpc: Record<ServiceName, number>;
  /** The web front (storefront and admin console). */
  web: number;
  edge: number;
}

/** What the stack's processes need to reach the infrastructure. */
export interface InfraEndpoints {
  /** A service's own database URL (its role on its database). */
  serviceDbUrl(service: string): string;
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
  const edge = profile === "test"
    ? DEFAULT_PORTS.edge + shift
    : Number(Deno.env.get("STOCKLET_EDGE_PORT") ?? DEFAULT_PORTS.edge);
  return { http, grpc, web: WEB.httpPort + shift, edge };
}

/** Where a profile keeps its application processes' logs and pid files. */
export function appStateDir(profile: InfraProfile): string {
  return join(STATE_DIR, profile === "test" ? "test-stack" : "stack");
}

/** The entry point of an application process. */
export function entryOf(app: AppName): string {
  if (app === "edge" || app === "web") return join(ROOT, app, "main.ts");
  return join(ROOT, "services", app, "main.ts");
}

/** The HTTP port an application process listens on. */
export function httpPortOf(app: AppName, ports: StackPorts): number {
  return app === "edge" ? ports.edge : app === "web" ? ports.web : ports.http[app];
}

/** Options for {@linkcode appEnv}. */
export interface AppEnvOptions {
  /** Variables added to (and overriding) every process's environment. */
  extra?: Record<string, string>;
  /** OTLP/HTTP endpoint to export traces to; tracing is off without one. */
  otlpEndpoint?: string;
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
    OTEL_SERVICE_NAME: app,
  };
  if (opts.otlpEndpoint) {
    env.OTEL_DENO = "true";
    env.OTEL_EXPORTER_OTLP_ENDPOINT = opts.otlpEndpoint;
    env.OTEL_EXPORTER_OTLP_PROTOCOL = "http/json";
    // Export spans every second (the default is 5 s), so `deno task trace` sees an order at once.
    env.OTEL_BSP_SCHEDULE_DELAY = "1000";
  }
  if (app === "edge" || app === "web") {
    // Both call the services over REST; the edge also hands the web front its pages.
    for (const name of SERVICE_NAMES) env[httpUrlVar(name)] = local(ports.http[name]);
  }
  if (app === "edge") {
    env.STOCKLET_EDGE_PORT = String(ports.edge);
    env[httpUrlVar("web")] = local(ports.web);
  } else if (app === "web") {
    env.HTTP_PORT = String(ports.web);
    env.DATABASE_URL = infra.serviceDbUrl("web");
  } else {
    env.HTTP_PORT = String(ports.http[app]);
    env.GRPC_PORT = String(ports.grpc[app]);
    env.DATABASE_URL = infra.serviceDbUrl(app);
    if (app === "auth") env.USER_GRPC_ADDR = `127.0.0.1:${ports.grpc.user}`;
  }
  return { ...env, ...opts.extra };
}

/**
 * V8 flags of the application processes (`STOCKLET_V8_FLAGS`): a small young generation keeps each
 * process about 20 MiB smaller, which matters when eight of them share a laptop with Kafka.
 */
export function appV8Flags(): string {
  return Deno.env.get("STOCKLET_V8_FLAGS") ?? "--max-semi-space-size=2";
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

/** The `deno run` arguments of an application process. */
export function appArgs(app: AppName): string[] {
  const v8 = appV8Flags();
  const inspect = inspectPortOf(app);
  return [
    "run",
    "-A",
    "--no-prompt",
    ...(v8 ? [`--v8-flags=${v8}`] : []),
    ...(inspect ? [`--inspect=127.0.0.1:${inspect}`] : []),
    entryOf(app),
  ];
}
