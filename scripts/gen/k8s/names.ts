/**
 * Names, labels and fixed values of the Kubernetes deployment (deploy/k8s/), shared by the
 * generator's parts and the tests that read the rendered manifests back.
 * @module
 */
import type { DbLayout, RelaySpec, ServiceName } from "@stocklet/shared/topology";
import { IMAGES } from "../compose.ts";
import { COLLECTOR_METRICS_PORT } from "../prometheus_k8s.ts";

/** The namespace everything lives in (the overlays keep it: connectors and policies name it). */
export const NAMESPACE = "stocklet";

/** The app image's name in the manifests; the overlays' `images:` point it at a registry. */
export const APP_IMAGE = "stocklet";
/** Images of the edge and the collector: the ones compose runs. */
export const EDGE_IMAGE: string = IMAGES.envoy;
/** The OpenTelemetry collector's image (the compose one). */
export const COLLECTOR_IMAGE: string = IMAGES.otelCollector;
/** Postgres 17: logical replication slots survive a failover (failover slots). */
export const POSTGRES_IMAGE = "ghcr.io/cloudnative-pg/postgresql:17";
/** The Kafka version Strimzi runs (Strimzi 0.49–0.50 support 4.0.0 to 4.1.1). */
export const KAFKA_VERSION = "4.1.1";

/** The user ids the images run as (Deno's `deno`, Envoy's `envoy`, the collector's). */
export const RUN_AS = { app: 1993, envoy: 101, collector: 10001 } as const;

/** The Strimzi `Kafka` cluster and its bootstrap address. */
export const KAFKA_CLUSTER = "stocklet";
/** The plain listener's port. */
export const KAFKA_PORT = 9092;
/** Where clients reach the brokers. */
export const KAFKA_BOOTSTRAP = `${KAFKA_CLUSTER}-kafka-bootstrap:${KAFKA_PORT}`;
/** The Strimzi `KafkaConnect` cluster (Debezium). */
export const CONNECT_CLUSTER = "stocklet-connect";
/** Where Strimzi pushes the Connect image it builds with Debezium: set it to your registry. */
export const CONNECT_OUTPUT_IMAGE = "registry.example.com/stocklet-connect:latest";

/** The edge (Envoy) and the OpenTelemetry collector. */
export const EDGE = "edge";
/** The collector's name (Envoy's deploy/envoy/envoy.yaml sends to `otel-collector:4317`). */
export const COLLECTOR = "otel-collector";
/**
 * The collector's ports: OTLP over gRPC (Envoy) and HTTP (the services), its Prometheus exporter
 * (`metrics`, what the ServiceMonitor scrapes) and its health check.
 */
export const COLLECTOR_PORTS = {
  otlpGrpc: 4317,
  otlpHttp: 4318,
  metrics: COLLECTOR_METRICS_PORT.port,
  health: 13133,
} as const;

/**
 * Labels of the Prometheus operator's Prometheus pods (kube-prometheus-stack's and the operator's
 * own examples), which may scrape the collector from any namespace.
 */
export const PROMETHEUS_PODS = { "app.kubernetes.io/name": "prometheus" } as const;

/** The ConfigMap every service reads its common settings from. */
export const CONFIG_MAP = "stocklet-config";

/** A value a container takes from a Secret the operator of the cluster creates. */
export interface SecretRef {
  /** The Secret. */
  secret: string;
  /** Its key, which is also the environment variable's name where the service reads it. */
  key: string;
  /** Whether the pod starts without it. */
  optional: boolean;
  /** What to put there (the README's instructions). */
  doc: string;
  /** The service that reads it. */
  service: ServiceName;
}

/**
 * The Secrets of the services nothing in deploy/k8s creates: no default value is ever written
 * down. A pod whose required key is missing does not start (CreateContainerConfigError) until it
 * exists.
 */
export const SECRETS: readonly SecretRef[] = [
  {
    secret: "stocklet-auth",
    key: "AUTH_PRIVATE_KEY",
    // Without it, auth generates its signing keys in its database and rotates them
    // (AUTH_KEY_ROTATION_DAYS); with it, the operator of the cluster owns the key and its rotation.
    optional: true,
    doc: "a P-256 private key (PEM) to sign access tokens with (optional: auth generates and " +
      "rotates its own keys without it)",
    service: "auth",
  },
  {
    secret: "stocklet-admin",
    key: "STOCKLET_ADMIN_PASSWORD",
    optional: false,
    doc: "the bootstrap admin's password (12 to 128 characters, at least 6 different)",
    service: "user",
  },
  {
    secret: "stocklet-admin",
    key: "STOCKLET_ADMIN_EMAIL",
    optional: true,
    doc: "the bootstrap admin's email (optional; default admin@stocklet.local)",
    service: "user",
  },
  {
    secret: "stocklet-smtp",
    key: "NOTIFICATION_SMTP_URL",
    optional: false,
    doc: "the mail server the customers' emails go through, `smtp://user:password@host:587` " +
      "(STARTTLS when the server offers it) or `smtps://…:465`",
    service: "notification",
  },
  {
    secret: "stocklet-smtp",
    key: "NOTIFICATION_FROM",
    optional: true,
    doc: "the emails' sender (optional; default `Stocklet <orders@stocklet.local>`)",
    service: "notification",
  },
];

/**
 * Ports of the mail servers outside the cluster the notification service may reach: SMTP (25),
 * submission over implicit TLS (465) and with STARTTLS (587).
 */
export const SMTP_PORTS: readonly number[] = [25, 465, 587];

/**
 * The password of every service's database role (`stocklet_<svc>`), which nothing in deploy/k8s
 * creates either: the init Jobs set it on the roles (`STOCKLET_SERVICE_DB_PASSWORD`), the
 * services log in with it (as `PGPASSWORD`, which postgres.js reads when `DATABASE_URL` has no
 * password, so the password is never pasted into a URL).
 */
export const DB_PASSWORD = {
  secret: "stocklet-database",
  key: "STOCKLET_SERVICE_DB_PASSWORD",
  doc: "the password of the services' database roles",
} as const;

/** `app.kubernetes.io/component` of each kind of pod of ours. */
export const COMPONENT = {
  service: "service",
  init: "service-init",
  relayInit: "relay-init",
  relayRepair: "relay-repair",
  edge: "edge",
  collector: "otel-collector",
} as const;

/** The labels of a pod of ours (its Deployment's or Job's selector is the first two). */
export function podLabels(
  name: string,
  component: typeof COMPONENT[keyof typeof COMPONENT],
): Record<string, string> {
  return {
    "app.kubernetes.io/name": name,
    "app.kubernetes.io/component": component,
    "app.kubernetes.io/part-of": "stocklet",
  };
}

/** The selector of a workload's pods. */
export function selectorOf(
  name: string,
  component: typeof COMPONENT[keyof typeof COMPONENT],
): Record<string, string> {
  return { "app.kubernetes.io/name": name, "app.kubernetes.io/component": component };
}

/** A relay's repair CronJob (deploy/k8s/relay_repair.ts). */
export function repairJobOf(relay: string): string {
  return `${relay}-repair`;
}

/** The service account of the relays' repair Jobs, which may read and patch their connectors. */
export const RELAY_REPAIR_ACCOUNT = "stocklet-relay-repair";

/** The init Job of a service (its place in PostgreSQL, its migrations) or of a relay. */
export function initJobOf(name: string): string {
  return `${name}-init`;
}

/** Labels Strimzi puts on the pods it runs. */
export const STRIMZI_PODS = {
  brokers: {
    "strimzi.io/cluster": KAFKA_CLUSTER,
    "strimzi.io/kind": "Kafka",
    "strimzi.io/broker-role": "true",
  },
  connect: { "strimzi.io/cluster": CONNECT_CLUSTER, "strimzi.io/kind": "KafkaConnect" },
} as const;

/** Where CloudNativePG's operator runs (its default install); it talks to the instances. */
export const CNPG_OPERATOR_NAMESPACE = "cnpg-system";
/** The ports of a CloudNativePG instance: Postgres and the instance manager's status API. */
export const CNPG_PORTS = { postgres: 5432, status: 8000 } as const;

/**
 * How a database component deploys one of the topology's layouts (`DbLayout`: which database
 * and role each service has, which connectors relay the outboxes) on CloudNativePG clusters.
 */
export interface DatabaseLayout {
  layout: DbLayout;
  /** The `Cluster` holding svc's database. */
  clusterOf(svc: string): string;
}

/** `isolated`: a cluster per service, `<svc>-db`, holding its database and its relay. */
export const PER_SERVICE: DatabaseLayout = { layout: "isolated", clusterOf: (svc) => `${svc}-db` };

/** `shared`: one cluster, `stocklet-db`, holding the one database and its one relay. */
export const SHARED: DatabaseLayout = { layout: "shared", clusterOf: () => "stocklet-db" };

/** The deployment of each layout. */
export const DATABASE_LAYOUTS: Readonly<Record<DbLayout, DatabaseLayout>> = {
  isolated: PER_SERVICE,
  shared: SHARED,
};

/** The cluster a relay reads from (its services' databases are one). */
export function relayClusterOf(layout: DatabaseLayout, relay: RelaySpec): string {
  return layout.clusterOf(relay.services[0]!);
}

/**
 * The Secret CloudNativePG creates with a cluster's superuser (`username`, `password`) when
 * `enableSuperuserAccess` is on: the init Jobs make roles and schemas with it, and Debezium
 * streams the WAL with it, as the local stack's administrator does. No service reads it.
 */
export function superuserSecretOf(cluster: string): string {
  return `${cluster}-superuser`;
}

/** The owner initdb gives a cluster's database: no service logs in as it (each has its role). */
export const DATABASE_OWNER = "stocklet";

/** The read-write Service CloudNativePG creates for a cluster's primary. */
export function primaryServiceOf(cluster: string): string {
  return `${cluster}-rw`;
}

/** `STOCKLET_DB` for `stocklet-db`: the prefix of Connect's variables holding its login. */
export function connectEnvPrefixOf(cluster: string): string {
  return cluster.toUpperCase().replaceAll("-", "_");
}
