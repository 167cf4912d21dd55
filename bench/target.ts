/**
 * Which running stack the bench and the chaos suite talk to, and how: the dev stack through its
 * edge (http://127.0.0.1:8080) when it answers, else the test stack (brought up with
 * `ensureTestStack`), through its edge or, while there is none, straight to the services. Also
 * knows every process of the stack (apps and infrastructure, from their pid files) for RSS.
 * @module
 */
import { Kafka, logLevel } from "kafkajs";
import { Api } from "@stocklet/testing/stack";
import { SERVICE_NAMES, type ServiceName } from "@stocklet/shared/topology";
import {
  type Component,
  componentPid,
  COMPONENTS,
  type InfraConfig,
  infraConfig,
  infraDown,
  infraHandle,
} from "@stocklet/scripts/infra";
import { appPid, isReady } from "@stocklet/scripts/stack/apps";
import { processesOf, type ProcessGroup, type StackKind } from "./processes.ts";
import { type AppName, stackPorts } from "@stocklet/scripts/stack/config";
import {
  ensureTestStack,
  stackApps,
  stopTestStack,
  TEST_SETTINGS,
  type TestStack,
} from "@stocklet/scripts/stack";

/** Which stack (defined beside the process discovery, which the memory thread loads alone). */
export type { StackKind };

/** The REST client of the bench: the tests' Api, with the admin of the stack it talks to. */
export class BenchApi extends Api {
  #admin: Promise<string> | undefined;
  constructor(stack: TestStack, readonly adminEmail: string, readonly adminPassword: string) {
    super(stack);
  }

  /** The admin's token (logged in once). */
  override adminToken(): Promise<string> {
    return this.#admin ??= this.login(this.adminEmail, this.adminPassword);
  }
}

/** A resolved stack. */
export interface Target {
  kind: StackKind;
  api: BenchApi;
  /** The edge's URL, or undefined when requests go straight to the services. */
  edgeUrl: string | undefined;
  infra: InfraConfig;
  kafkaBrokers: string[];
  /** A service's own database URL. */
  serviceDbUrl(service: string): string;
  /** A service's own HTTP port (for /metrics). */
  serviceUrl(svc: ServiceName): string;
  /** The stack's processes right now (pids re-read from the pid files each call). */
  processes(): Promise<ProcessGroup[]>;
  /** Stops what this resolution started (test stack apps and/or infrastructure). */
  release(): Promise<string[]>;
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1500) });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** Options of {@linkcode resolveTarget}. */
export interface ResolveOptions {
  /** Force a stack; by default the dev stack if its edge answers, else the test stack. */
  stack?: StackKind;
  log?: (line: string) => void;
}

/**
 * Finds (or, for the test stack, brings up) the stack to measure. The caller should call
 * `release()` at the end: it stops only what this call started.
 */
export async function resolveTarget(opts: ResolveOptions = {}): Promise<Target> {
  const log = opts.log ?? ((l: string) => console.error(l));
  const devPorts = stackPorts("dev");
  const devEdge = `http://127.0.0.1:${devPorts.edge}`;
  let kind = opts.stack;
  if (!kind) kind = (await answers(`${devEdge}/healthz`)) ? "dev" : "test";

  if (kind === "dev") {
    if (!(await answers(`${devEdge}/healthz`))) {
      throw new Error(
        `the dev stack's edge does not answer at ${devEdge} (start \`deno task dev\`)`,
      );
    }
    const cfg = infraConfig("dev");
    const stack: TestStack = {
      infra: infraHandle(cfg),
      ports: devPorts,
      edgeUrl: devEdge,
      serviceUrl: (svc) => `http://127.0.0.1:${devPorts.http[svc]}`,
      mailboxUrl: `http://127.0.0.1:${devPorts.mailbox}`,
      started: [],
    };
    const api = new BenchApi(
      stack,
      Deno.env.get("STOCKLET_ADMIN_EMAIL") ?? "admin@stocklet.local",
      Deno.env.get("STOCKLET_ADMIN_PASSWORD") ?? "stocklet-admin",
    );
    return {
      kind,
      api,
      edgeUrl: devEdge,
      infra: cfg,
      kafkaBrokers: stack.infra.kafkaBrokers,
      serviceDbUrl: stack.infra.serviceDbUrl,
      serviceUrl: stack.serviceUrl,
      processes: () => processesOf("dev", cfg),
      release: () => Promise.resolve([]),
    };
  }

  const cfg = infraConfig("test");
  const ports = stackPorts("test");
  const apps = await stackApps();
  const appsRunning = (await Promise.all(
    apps.map(async (a: AppName) => appPid("test", a) !== undefined && await isReady(a, ports)),
  )).every(Boolean);
  const infraRunning = COMPONENTS.every((c: Component) => componentPid(cfg, c) !== undefined);
  const stack = await ensureTestStack({ log });
  const api = new BenchApi(stack, TEST_SETTINGS.adminEmail, TEST_SETTINGS.adminPassword);
  return {
    kind,
    api,
    edgeUrl: stack.edgeUrl,
    infra: cfg,
    kafkaBrokers: stack.infra.kafkaBrokers,
    serviceDbUrl: stack.infra.serviceDbUrl,
    serviceUrl: stack.serviceUrl,
    processes: () => processesOf("test", cfg),
    async release() {
      const stopped: string[] = [];
      if (!appsRunning) {
        await stopTestStack();
        stopped.push("test stack apps");
      }
      if (!infraRunning) {
        stopped.push(...(await infraDown(cfg)).map((c) => `infra ${c}`));
      }
      return stopped;
    },
  };
}

/** The services that consume events: every one but auth and user (they only publish, or nothing). */
export const CONSUMING_SERVICES: readonly ServiceName[] = SERVICE_NAMES.filter((s) =>
  s !== "auth" && s !== "user"
);

/**
 * The stack settings a run asks for (`--replicas N --partitions P` of the bench and the chaos
 * suite): N replicas of every consuming service and P partitions per topic, as the test stack
 * reads them when it starts (`STOCKLET_REPLICAS`, `STOCKLET_TOPIC_PARTITIONS`).
 */
export function scaleEnv(opts: { replicas: number; partitions?: number }): Record<string, string> {
  const env: Record<string, string> = {};
  if (opts.replicas > 1) {
    env.STOCKLET_REPLICAS = CONSUMING_SERVICES.map((s) => `${s}=${opts.replicas}`).join(",");
  }
  if (opts.partitions !== undefined) env.STOCKLET_TOPIC_PARTITIONS = String(opts.partitions);
  return env;
}

/**
 * Whether a running dev stack already is what `--replicas`/`--partitions` ask for (the bench
 * cannot restart it): every consuming service's replicas answer, every topic has the partitions.
 * @returns What differs (empty: it matches).
 */
export async function devStackMismatch(
  opts: { replicas: number; partitions?: number },
  brokers: string[],
): Promise<string[]> {
  const problems: string[] = [];
  const ports = stackPorts("dev");
  for (const svc of CONSUMING_SERVICES) {
    for (let k = 0; k < opts.replicas; k++) {
      const app = (k === 0 ? svc : `${svc}@${k}`) as AppName;
      if (!(await isReady(app, ports))) problems.push(`${app} does not answer`);
    }
  }
  if (opts.partitions !== undefined) {
    const admin = new Kafka({ clientId: "stocklet-bench", brokers, logLevel: logLevel.NOTHING })
      .admin();
    await admin.connect();
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: ["order.state.created"] });
      const have = topics[0]?.partitions.length ?? 0;
      if (have !== opts.partitions) {
        problems.push(`order.state.created has ${have} partitions, not ${opts.partitions}`);
      }
    } finally {
      await admin.disconnect();
    }
  }
  return problems;
}
