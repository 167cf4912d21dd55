/**
 * Postgres on CloudNativePG, in the topology's two layouts (`DbLayout` in shared/topology.ts),
 * each a kustomize component that also wires the services to it: `database-per-service` (the
 * `isolated` layout: a `Cluster` per service, a connector each, as prod runs) and
 * `shared-database` (the `shared` layout: one `Cluster` holding one database with a schema and a
 * role per service, one connector, for one small node). Logical decoding is on (`wal_level=logical`,
 * slots and senders for every connector and standby). The init Jobs make each service's role and
 * schema as the cluster's superuser, then run its migrations as its role; a relay's Job prepares
 * its database (relay outbox, publication) for the connector.
 * @module
 */
import {
  DATABASE_OWNERS,
  type DatabaseOwner,
  type DbPlacement,
  placementOf,
  relaysOf,
  type RelaySpec,
} from "@stocklet/shared/topology";
import {
  CNPG_PORTS,
  COMPONENT,
  CONFIG_MAP,
  CONNECT_CLUSTER,
  connectEnvPrefixOf,
  DATABASE_OWNER,
  type DatabaseLayout,
  DB_PASSWORD,
  initJobOf,
  NAMESPACE,
  podLabels,
  POSTGRES_IMAGE,
  primaryServiceOf,
  RELAY_REPAIR_ACCOUNT,
  relayClusterOf,
  repairJobOf,
  RUN_AS,
  superuserSecretOf,
} from "./names.ts";
import { kafkaConnector } from "./kafka.ts";
import type { Profile } from "./profiles.ts";
import { initContainer, initJobSpec, podSecurity } from "./workloads.ts";
import type { Manifest } from "./yaml.ts";

/** The services (and the web front) whose tables a cluster holds. */
function heldBy(layout: DatabaseLayout, cluster: string): DatabaseOwner[] {
  return DATABASE_OWNERS.filter((s) => layout.clusterOf(s.name) === cluster);
}

/** The clusters of a layout. */
export function clustersOf(layout: DatabaseLayout): string[] {
  return [...new Set(DATABASE_OWNERS.map((s) => layout.clusterOf(s.name)))];
}

/** Where a service's tables live in the layout. */
export function placementIn(layout: DatabaseLayout, svc: string): DbPlacement {
  return placementOf(svc, layout.layout);
}

/** The relays whose database a cluster holds. */
function relaysIn(layout: DatabaseLayout, cluster: string): RelaySpec[] {
  return relaysOf(layout.layout).filter((r) => relayClusterOf(layout, r) === cluster);
}

/**
 * A `Cluster`: its one database (the layout's) made by initdb, and superuser access, whose Secret
 * the init Jobs and Debezium use. Replication slots: one per relay, one per standby
 * (CloudNativePG's HA slots), and room for a few more (at least Postgres' default 10); as many
 * WAL senders. With standbys, Debezium's slot is a failover slot synchronised to them (Postgres
 * 17, see `k8sConnectorOverrides`), so a failover loses no outbox event.
 */
export function cluster(layout: DatabaseLayout, name: string, profile: Profile): Manifest {
  const databases = [
    ...new Set(heldBy(layout, name).map((s) => placementIn(layout, s.name).database)),
  ];
  if (databases.length !== 1) throw new Error(`${name} would hold ${databases.join(", ")}`);
  const ha = profile.postgres.instances > 1;
  const slots = Math.max(10, relaysIn(layout, name).length + profile.postgres.instances + 4);
  return {
    apiVersion: "postgresql.cnpg.io/v1",
    kind: "Cluster",
    metadata: { name },
    spec: {
      instances: profile.postgres.instances,
      imageName: POSTGRES_IMAGE,
      // The services' roles and schemas are made by their init Jobs (ensurePlacement), as the
      // superuser; initdb's owner of the database is no service's login.
      bootstrap: { initdb: { database: databases[0], owner: DATABASE_OWNER } },
      enableSuperuserAccess: true,
      postgresql: {
        parameters: {
          wal_level: "logical",
          max_replication_slots: String(slots),
          max_wal_senders: String(slots),
          // A standby tells the primary what it still needs, so synchronised slots stay valid.
          ...(ha ? { hot_standby_feedback: "on" } : {}),
        },
      },
      ...(ha
        ? {
          replicationSlots: {
            highAvailability: { enabled: true, synchronizeLogicalDecoding: true },
          },
        }
        : {}),
      storage: { size: profile.postgres.storage },
      resources: profile.postgres.resources,
      affinity: { enablePodAntiAffinity: true, topologyKey: "kubernetes.io/hostname" },
    },
  };
}

function fromSecret(name: string, secret: string, key: string): Manifest {
  return { name, valueFrom: { secretKeyRef: { name: secret, key } } };
}

/** A database URL without a login (postgres.js takes it from `PGUSER`, `PGPASSWORD`). */
function databaseUrl(cluster: string, database: string, user?: string): string {
  const login = user ? `${user}@` : "";
  return `postgresql://${login}${primaryServiceOf(cluster)}:${CNPG_PORTS.postgres}/${database}`;
}

/**
 * A service's own login: `DATABASE_URL` names its role, the cluster's primary and its
 * placement's database; the password is `PGPASSWORD` from the Secret every role's password is in.
 */
export function serviceDatabaseEnv(layout: DatabaseLayout, svc: string): Manifest[] {
  const p = placementIn(layout, svc);
  return [
    fromSecret("PGPASSWORD", DB_PASSWORD.secret, DB_PASSWORD.key),
    { name: "DATABASE_URL", value: databaseUrl(layout.clusterOf(svc), p.database, p.role) },
  ];
}

/** An administrator's login to a database of a cluster: its superuser. */
export function adminDatabaseEnv(cluster: string, database: string): Manifest[] {
  const secret = superuserSecretOf(cluster);
  return [
    fromSecret("PGUSER", secret, "username"),
    fromSecret("PGPASSWORD", secret, "password"),
    { name: "DATABASE_URL", value: databaseUrl(cluster, database) },
  ];
}

/**
 * Strategic-merge patches that wire each service (and the web front) to its database: the service and its schema
 * wait (its own login; the service also its relay's slot, `OUTBOX_SLOT`), its init Job (the
 * superuser).
 */
export function workloadWiring(layout: DatabaseLayout): Manifest[] {
  return DATABASE_OWNERS.flatMap((spec) => {
    const own = serviceDatabaseEnv(layout, spec.name);
    const slot = spec.outbox
      ? [{
        name: "OUTBOX_SLOT",
        value: relaysOf(layout.layout).find((r) => r.services.some((s) => s === spec.name))!.slot,
      }]
      : [];
    return [
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: spec.name },
        spec: {
          template: {
            spec: {
              initContainers: [{ name: "wait-for-schema", env: own }],
              containers: [{ name: spec.name, env: [...own, ...slot] }],
            },
          },
        },
      },
      {
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: { name: initJobOf(spec.name) },
        spec: {
          template: {
            spec: {
              containers: [{
                name: "service-init",
                env: adminDatabaseEnv(
                  layout.clusterOf(spec.name),
                  placementIn(layout, spec.name).database,
                ),
              }],
            },
          },
        },
      },
    ];
  });
}

/** The entry of a relay's init Job (in the app image). */
export const RELAY_INIT_ENTRY = "deploy/k8s/relay_init.ts";

/**
 * A relay's init Job (deploy/k8s/relay_init.ts): once its services' migrations made their outbox
 * tables, the relay outbox and the publication its connector reads.
 */
export function relayInitJob(layout: DatabaseLayout, relay: RelaySpec, profile: Profile): Manifest {
  const labels = podLabels(relay.name, COMPONENT.relayInit);
  // Not the ConfigMap: kustomize does not give a component's own objects the hashed name of a
  // ConfigMap generated in the base, and the Job needs nothing else from it.
  const { envFrom: _, ...container } = initContainer(RELAY_INIT_ENTRY, profile);
  return initJobSpec(initJobOf(relay.name), labels, {
    name: "relay-init",
    ...container,
    env: [
      { name: "RELAY", value: relay.name },
      { name: "RELAY_MODE", value: "prepare" },
      { name: "STOCKLET_DB_LAYOUT", value: layout.layout },
      ...adminDatabaseEnv(relayClusterOf(layout, relay), relay.database),
    ],
  });
}

/** How often a relay's repair Job looks at its slot (cron): a lost slot stops the relay. */
export const REPAIR_SCHEDULE = "*/5 * * * *";

/**
 * A relay's repair CronJob (deploy/k8s/relay_init.ts in `repair` mode, deploy/k8s/relay_repair.ts):
 * every few minutes, if PostgreSQL invalidated the relay's slot, it repairs the relay through its
 * `KafkaConnector` (stop, reset offsets, new slot, publish again what the outboxes hold), as
 * service-init does locally; otherwise it exits at once. One at a time; a repair cut short is
 * finished by the next run.
 */
export function relayRepairCronJob(
  layout: DatabaseLayout,
  relay: RelaySpec,
  profile: Profile,
): Manifest {
  const labels = podLabels(relay.name, COMPONENT.relayRepair);
  const { envFrom: _, ...container } = initContainer(RELAY_INIT_ENTRY, profile);
  return {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name: repairJobOf(relay.name), labels },
    spec: {
      schedule: REPAIR_SCHEDULE,
      concurrencyPolicy: "Forbid",
      startingDeadlineSeconds: 240,
      successfulJobsHistoryLimit: 1,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        metadata: { labels },
        spec: {
          backoffLimit: 3,
          // Waiting on Strimzi, which also reconciles on a timer, takes minutes at worst.
          activeDeadlineSeconds: 1_800,
          template: {
            metadata: { labels },
            spec: {
              restartPolicy: "OnFailure",
              serviceAccountName: RELAY_REPAIR_ACCOUNT,
              automountServiceAccountToken: true,
              securityContext: podSecurity(RUN_AS.app),
              containers: [{
                name: "relay-repair",
                ...container,
                env: [
                  { name: "RELAY", value: relay.name },
                  { name: "RELAY_MODE", value: "repair" },
                  { name: "STOCKLET_DB_LAYOUT", value: layout.layout },
                  ...adminDatabaseEnv(relayClusterOf(layout, relay), relay.database),
                ],
              }],
            },
          },
        },
      },
    },
  };
}

/**
 * The repair Jobs' service account, allowed to read and patch the layout's connectors only
 * (`spec.state`, and the annotations that reset offsets and mark a repair).
 */
export function relayRepairAccess(layout: DatabaseLayout): Manifest[] {
  const labels = { "app.kubernetes.io/part-of": "stocklet" };
  return [
    {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: RELAY_REPAIR_ACCOUNT, labels },
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: RELAY_REPAIR_ACCOUNT, labels },
      rules: [{
        apiGroups: ["kafka.strimzi.io"],
        resources: ["kafkaconnectors"],
        resourceNames: relaysOf(layout.layout).map((r) => r.name).sort(),
        verbs: ["get", "patch"],
      }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: RELAY_REPAIR_ACCOUNT, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: RELAY_REPAIR_ACCOUNT },
      subjects: [{ kind: "ServiceAccount", name: RELAY_REPAIR_ACCOUNT, namespace: NAMESPACE }],
    },
  ];
}

/**
 * A layout's relays: a `KafkaConnector`, an init Job and a repair CronJob each, and the repair
 * Jobs' access to the connectors.
 */
export function relayManifests(layout: DatabaseLayout, profile: Profile): Manifest[] {
  return [
    ...relaysOf(layout.layout).flatMap((r) => [
      kafkaConnector(layout, r, profile),
      relayInitJob(layout, r, profile),
      relayRepairCronJob(layout, r, profile),
    ]),
    ...relayRepairAccess(layout),
  ];
}

/** The layout every program reads (`STOCKLET_DB_LAYOUT`), merged into the ConfigMap. */
export function layoutSetting(layout: DatabaseLayout): Manifest {
  return {
    name: CONFIG_MAP,
    behavior: "merge",
    literals: [`STOCKLET_DB_LAYOUT=${layout.layout}`],
  };
}

/** A patch that gives Connect the superuser login of each cluster a relay reads. */
export function connectWiring(layout: DatabaseLayout): Manifest {
  const clusters = [...new Set(relaysOf(layout.layout).map((r) => relayClusterOf(layout, r)))];
  const env = clusters.flatMap((c) => {
    const prefix = connectEnvPrefixOf(c);
    return [
      fromSecret(`${prefix}_USER`, superuserSecretOf(c), "username"),
      fromSecret(`${prefix}_PASSWORD`, superuserSecretOf(c), "password"),
    ];
  });
  return {
    apiVersion: "kafka.strimzi.io/v1",
    kind: "KafkaConnect",
    metadata: { name: CONNECT_CLUSTER },
    spec: { template: { connectContainer: { env } } },
  };
}
