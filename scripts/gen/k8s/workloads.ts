/**
 * The workloads of the app image: per service, and for the web front, a Deployment (probes on
 * the kit's gRPC health service, or `/healthz` for the web front, and `/healthz`, `/readyz`;
 * graceful shutdown; an init container that waits for the schema), a headless Service (Envoy
 * balances requests across the pods it resolves), a HorizontalPodAutoscaler, a
 * PodDisruptionBudget and the service-init Job. The database wiring (`DATABASE_URL`,
 * `OUTBOX_SLOT`, the layout) is not here: the database components add it
 * (deploy/k8s/components/).
 * @module
 */
import {
  callsOf,
  callVariableOf,
  httpUrlVar,
  type ServiceName,
  SERVICES,
  type ServiceSpec,
  serviceSpec,
  WEB,
} from "@stocklet/shared/topology";
import {
  APP_IMAGE,
  COLLECTOR,
  COLLECTOR_PORTS,
  COMPONENT,
  CONFIG_MAP,
  DB_PASSWORD,
  initJobOf,
  KAFKA_BOOTSTRAP,
  podLabels,
  RUN_AS,
  SECRETS,
  selectorOf,
} from "./names.ts";
import { type Profile, type Resources, SHUTDOWN } from "./profiles.ts";
import { APP_V8_FLAGS, bundleOfEntry, IMAGE_BUNDLE_DIR } from "../../stack/config.ts";
import type { Manifest } from "./yaml.ts";

/** The entry of a service's init Job (in the app image). */
export const INIT_ENTRY = "deploy/k8s/service_init.ts";
/** The entry of the Deployments' init container that waits for the schema. */
export const WAIT_ENTRY = "deploy/k8s/wait_for_schema.ts";

/** The settings every service reads from the ConfigMap (the overlays merge theirs in). */
export function commonSettings(profile: Profile): Record<string, string> {
  const auth = serviceSpec("auth");
  return {
    BIND_HOST: "0.0.0.0",
    KAFKA_BROKERS: KAFKA_BOOTSTRAP,
    AUTH_JWKS_URL: `http://${auth.name}:${auth.httpPort}/v1/auth/jwks`,
    STOCKLET_TOPIC_PARTITIONS: String(profile.partitions),
    LOG_LEVEL: "info",
    // Deno's built-in OpenTelemetry exports traces, metrics and logs to the collector.
    OTEL_DENO: "true",
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://${COLLECTOR}:${COLLECTOR_PORTS.otlpHttp}`,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
    // Metrics every 10 s (as compose): the collector's Prometheus exporter serves them.
    OTEL_METRIC_EXPORT_INTERVAL: "10000",
    // Stocklet's own instruments (`off` keeps traces and drops them).
    STOCKLET_METRICS: "on",
  };
}

/**
 * Settings of one service that differ from the code's defaults on a cluster. The courier
 * simulator (shipping) dispatches and delivers every approved shipment by itself: a demo's
 * stand-in for a carrier, never wanted where real parcels go (it is off by default; said here so
 * that turning it on is a visible patch).
 */
const SERVICE_SETTINGS: Partial<Record<ServiceName, Record<string, string>>> = {
  shipping: { STOCKLET_COURIER: "off" },
};

/** The hardening every container of ours gets. */
export function containerSecurity(): Manifest {
  return {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
  };
}

/** The pod-level security context for an image's user. */
export function podSecurity(uid: number): Manifest {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** Spread a workload's pods over nodes when the cluster has several (never blocks scheduling). */
export function spread(selector: Record<string, string>): Manifest[] {
  return [{
    maxSkew: 1,
    topologyKey: "kubernetes.io/hostname",
    whenUnsatisfiable: "ScheduleAnyway",
    labelSelector: { matchLabels: selector },
  }];
}

/** A container's environment from name → value (or a Secret reference). */
function envList(vars: Record<string, string | Manifest>): Manifest[] {
  return Object.entries(vars).map(([name, v]) =>
    typeof v === "string" ? { name, value: v } : { name, valueFrom: v }
  );
}

/**
 * A program of the app image that serves HTTP behind a Service: a service (with gRPC) or the web
 * front.
 */
export interface App {
  name: string;
  /** Its entry module; `deno run` starts its bundle in the image (`bundleOfEntry`). */
  entry: string;
  httpPort: number;
  /** Absent for the web front (no gRPC). */
  grpcPort?: number;
  /** What it reads besides the ConfigMap and its database. */
  env: Record<string, string | Manifest>;
}

/** A service as an {@linkcode App}. */
export function serviceApp(spec: ServiceSpec): App {
  return {
    name: spec.name,
    entry: `services/${spec.name}/main.ts`,
    httpPort: spec.httpPort,
    grpcPort: spec.grpcPort,
    env: ownEnv(spec),
  };
}

/**
 * The web front as an {@linkcode App}: it reads pages through every service's REST gateway
 * (`<SVC>_HTTP_URL`, the service's headless Service, whose name it resolves to every ready pod
 * and calls in turn: shared/resolving_balancer.ts). `STOCKLET_TRACE_URL` stays unset (no tracing UI here): the order page shows
 * the `deno task trace` command.
 */
export function webApp(): App {
  return {
    name: WEB.name,
    entry: "web/main.ts",
    httpPort: WEB.httpPort,
    env: {
      HTTP_PORT: String(WEB.httpPort),
      OTEL_SERVICE_NAME: WEB.name,
      ...Object.fromEntries(
        SERVICES.map((s) => [httpUrlVar(s.name), `http://${s.name}:${s.httpPort}`]),
      ),
    },
  };
}

/** What a service reads besides the ConfigMap: its ports, its calls and its Secrets. */
function ownEnv(spec: ServiceSpec): Record<string, string | Manifest> {
  const env: Record<string, string | Manifest> = {
    HTTP_PORT: String(spec.httpPort),
    GRPC_PORT: String(spec.grpcPort),
    OTEL_SERVICE_NAME: spec.name,
    // Per pod: each connection is a PostgreSQL backend, so replicas multiply it.
    DB_POOL_MAX: String(spec.dbPool),
    ...SERVICE_SETTINGS[spec.name],
  };
  for (const call of callsOf(spec.name)) {
    const callee = serviceSpec(call.to);
    env[callVariableOf(call)] = call.over === "grpc"
      ? `${callee.name}:${callee.grpcPort}`
      : `http://${callee.name}:${callee.httpPort}`;
  }
  for (const s of SECRETS.filter((x) => x.service === spec.name)) {
    env[s.key] = {
      secretKeyRef: { name: s.secret, key: s.key, ...(s.optional ? { optional: true } : {}) },
    };
  }
  return env;
}

function appContainerBase(resources: Resources): Manifest {
  return {
    image: APP_IMAGE,
    imagePullPolicy: "IfNotPresent",
    envFrom: [{ configMapRef: { name: CONFIG_MAP } }],
    resources,
    securityContext: containerSecurity(),
  };
}

/** `deno run` of an entry of the app image (cached at build), with flags for Deno before it. */
function denoRun(...flagsAndEntry: string[]): string[] {
  return ["deno", "run", "-A", "--cached-only", ...flagsAndEntry];
}

/** An app's Deployment (no replica count: the HorizontalPodAutoscaler owns it). */
export function serviceDeployment(spec: App, profile: Profile): Manifest {
  const selector = selectorOf(spec.name, COMPONENT.service);
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: spec.name, labels: podLabels(spec.name, COMPONENT.service) },
    spec: {
      selector: { matchLabels: selector },
      // Never below the current capacity while rolling: one new pod at a time.
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: podLabels(spec.name, COMPONENT.service) },
        spec: {
          // No pod of ours but the relays' repair Jobs talks to the Kubernetes API.
          automountServiceAccountToken: false,
          securityContext: podSecurity(RUN_AS.app),
          terminationGracePeriodSeconds: SHUTDOWN.service,
          topologySpreadConstraints: spread(selector),
          initContainers: [{
            name: "wait-for-schema",
            ...initContainer(WAIT_ENTRY, profile),
            env: envList({ SERVICE: spec.name }),
          }],
          containers: [{
            name: spec.name,
            ...appContainerBase(profile.services.resources),
            // V8's memory-saving mode and a small young generation, as every app runs locally
            // and in compose (scripts/stack/config.ts).
            command: denoRun(
              `--v8-flags=${APP_V8_FLAGS}`,
              bundleOfEntry(spec.entry, IMAGE_BUNDLE_DIR),
            ),
            env: envList(spec.env),
            ports: [
              { name: "http", containerPort: spec.httpPort, protocol: "TCP" },
              ...(spec.grpcPort
                ? [{ name: "grpc", containerPort: spec.grpcPort, protocol: "TCP" }]
                : []),
            ],
            // Start-up (Deno compiles, the consumer joins its group) gets a minute.
            startupProbe: {
              httpGet: { path: "/healthz", port: "http" },
              periodSeconds: 2,
              failureThreshold: 30,
            },
            // Alive while the gRPC server says SERVING (the kit's grpc.health.v1 service); the
            // web front while it answers HTTP.
            livenessProbe: {
              ...(spec.grpcPort
                ? { grpc: { port: spec.grpcPort } }
                : { httpGet: { path: "/healthz", port: "http" } }),
              periodSeconds: 10,
              timeoutSeconds: 3,
              failureThreshold: 3,
            },
            // Ready while its database (and Kafka, for a consumer) answers.
            readinessProbe: {
              httpGet: { path: "/readyz", port: "http" },
              periodSeconds: 5,
              timeoutSeconds: 3,
              failureThreshold: 2,
            },
            lifecycle: { preStop: { sleep: { seconds: SHUTDOWN.preStop } } },
          }],
        },
      },
    },
  };
}

/**
 * A service's Service. Headless: its name resolves to the ready pods themselves, so Envoy (whose
 * clusters are STRICT_DNS) spreads requests over every pod and drops one that is gone, instead of
 * pinning each connection to one pod behind a virtual IP.
 */
export function serviceService(spec: App): Manifest {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: spec.name, labels: podLabels(spec.name, COMPONENT.service) },
    spec: {
      clusterIP: "None",
      selector: selectorOf(spec.name, COMPONENT.service),
      ports: [
        { name: "http", port: spec.httpPort, targetPort: "http", protocol: "TCP" },
        ...(spec.grpcPort
          ? [{
            name: "grpc",
            port: spec.grpcPort,
            targetPort: "grpc",
            protocol: "TCP",
            appProtocol: "kubernetes.io/h2c",
          }]
          : []),
      ],
    },
  };
}

/** A HorizontalPodAutoscaler on CPU (the services are CPU-bound; memory is steady). */
export function autoscaler(
  name: string,
  range: { min: number; max: number },
  labels: Record<string, string>,
): Manifest {
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name, labels },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name },
      minReplicas: range.min,
      maxReplicas: range.max,
      metrics: [{
        type: "Resource",
        resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } },
      }],
      // Scaling a consumer down rebalances its group: wait for load to stay low.
      behavior: { scaleDown: { stabilizationWindowSeconds: 300 } },
    },
  };
}

/** At most one pod of a workload evicted at a time (a single replica may still be drained). */
export function disruptionBudget(
  name: string,
  selector: Record<string, string>,
  labels: Record<string, string>,
): Manifest {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name, labels },
    spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
  };
}

/** A container of the app image that runs one of the init entries. */
export function initContainer(entry: string, profile: Profile): Manifest {
  return { ...appContainerBase(profile.services.resources), command: denoRun(entry) };
}

/**
 * An init Job. It retries (with back-off) until its database is up; a finished Job is deleted
 * after a day, so a later `kubectl apply` runs it again (the entries are idempotent).
 */
export function initJobSpec(
  name: string,
  labels: Record<string, string>,
  container: Manifest,
): Manifest {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, labels },
    spec: {
      backoffLimit: 20,
      ttlSecondsAfterFinished: 86_400,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: "OnFailure",
          // No pod of ours but the relays' repair Jobs talks to the Kubernetes API.
          automountServiceAccountToken: false,
          securityContext: podSecurity(RUN_AS.app),
          containers: [container],
        },
      },
    },
  };
}

/**
 * A service's init Job (deploy/k8s/service_init.ts): its role, schema and migrations, with the
 * roles' password from its Secret. Topics and connectors are Strimzi resources; the relays'
 * publications are their own Jobs' (the database components).
 */
export function initJob(spec: App, profile: Profile): Manifest {
  return initJobSpec(initJobOf(spec.name), podLabels(spec.name, COMPONENT.init), {
    name: "service-init",
    ...initContainer(INIT_ENTRY, profile),
    env: envList({
      SERVICE: spec.name,
      [DB_PASSWORD.key]: { secretKeyRef: { name: DB_PASSWORD.secret, key: DB_PASSWORD.key } },
    }),
  });
}

/** Every object of one service. */
export function serviceManifests(spec: App, profile: Profile): Manifest[] {
  const labels = podLabels(spec.name, COMPONENT.service);
  return [
    serviceDeployment(spec, profile),
    serviceService(spec),
    autoscaler(spec.name, profile.services, labels),
    disruptionBudget(spec.name, selectorOf(spec.name, COMPONENT.service), labels),
    initJob(spec, profile),
  ];
}
