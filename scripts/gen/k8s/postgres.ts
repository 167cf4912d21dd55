/**
 * Postgres on CloudNativePG, in two layouts, each a kustomize component that also wires the
 * services to it: `database-per-service` (a `Cluster` per service, as prod runs) and
 * `shared-database` (one `Cluster` with a `Database` per service, for one small node). Logical
 * decoding is on (`wal_level=logical`, slots and senders for every connector and standby), and
 * each database's owner may stream its WAL (REPLICATION), which is the login Debezium uses.
 * @module
 */
import { connectorOf, SERVICES, type ServiceSpec } from "../../../shared/topology.ts";
import {
  appSecretOf,
  CNPG_PORTS,
  CONNECT_CLUSTER,
  connectEnvPrefixOf,
  type DatabaseLayout,
  initJobOf,
  outboxServices,
  POSTGRES_IMAGE,
  primaryServiceOf,
} from "./names.ts";
import { connectorConfig, isDatabaseKey } from "./kafka.ts";
import type { Profile } from "./profiles.ts";
import type { Manifest } from "./yaml.ts";

/** The services whose databases a cluster holds. */
function heldBy(layout: DatabaseLayout, cluster: string): ServiceSpec[] {
  return SERVICES.filter((s) => layout.clusterOf(s.name) === cluster);
}

/** The clusters of a layout. */
export function clustersOf(layout: DatabaseLayout): string[] {
  return [...new Set(SERVICES.map((s) => layout.clusterOf(s.name)))];
}

/**
 * A `Cluster`. Replication slots: one per connector whose database it holds, one per standby
 * (CloudNativePG's HA slots), and room for a few more (at least Postgres' default 10); as many WAL
 * senders. With standbys, Debezium's slot is synchronised to them (Postgres 17 failover slots, see
 * {@linkcode connectWiring}), so a failover loses no outbox event.
 */
export function cluster(layout: DatabaseLayout, name: string, profile: Profile): Manifest {
  const held = heldBy(layout, name);
  const owner = layout.roleOf(held[0]!.name);
  const ha = profile.postgres.instances > 1;
  const slots = Math.max(10, held.filter((s) => s.outbox).length + profile.postgres.instances + 4);
  // initdb creates the first database; the others are `Database` resources.
  const first = held.length === 1 ? held[0]!.name : owner;
  return {
    apiVersion: "postgresql.cnpg.io/v1",
    kind: "Cluster",
    metadata: { name },
    spec: {
      instances: profile.postgres.instances,
      imageName: POSTGRES_IMAGE,
      bootstrap: {
        initdb: {
          database: first,
          owner,
          // Debezium logs in as the owner: it needs to stream the WAL. (Runs once, after initdb
          // created the owner.)
          postInitApplicationSQL: [`ALTER ROLE "${owner}" WITH REPLICATION`],
        },
      },
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

/** The `Database` resources of a shared cluster (one per service, owned by the shared role). */
export function databases(layout: DatabaseLayout, name: string): Manifest[] {
  const held = heldBy(layout, name);
  if (held.length === 1) return [];
  return held.map((s) => ({
    apiVersion: "postgresql.cnpg.io/v1",
    kind: "Database",
    metadata: { name: `${name}-${s.name}` },
    spec: { cluster: { name }, name: s.database, owner: layout.roleOf(s.name) },
  }));
}

/**
 * The database variables of a service's containers: `DATABASE_URL` names the cluster's primary
 * and the database; the login comes from CloudNativePG's Secret as `PGUSER` and `PGPASSWORD`,
 * which postgres.js reads when the URL has none (so the password is never pasted into a URL,
 * where some characters would need escaping).
 */
export function databaseEnv(layout: DatabaseLayout, spec: ServiceSpec): Manifest[] {
  const cluster = layout.clusterOf(spec.name);
  const secret = appSecretOf(cluster);
  return [
    { name: "PGUSER", valueFrom: { secretKeyRef: { name: secret, key: "username" } } },
    { name: "PGPASSWORD", valueFrom: { secretKeyRef: { name: secret, key: "password" } } },
    {
      name: "DATABASE_URL",
      value: `postgresql://${primaryServiceOf(cluster)}:${CNPG_PORTS.postgres}/${spec.database}`,
    },
  ];
}

/** Strategic-merge patches that give each service's containers its database. */
export function workloadWiring(layout: DatabaseLayout): Manifest[] {
  return SERVICES.flatMap((spec) => {
    const env = databaseEnv(layout, spec);
    return [
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: spec.name },
        spec: {
          template: {
            spec: {
              initContainers: [{ name: "wait-for-schema", env }],
              containers: [{ name: spec.name, env }],
            },
          },
        },
      },
      {
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: { name: initJobOf(spec.name) },
        spec: { template: { spec: { containers: [{ name: "service-init", env }] } } },
      },
    ];
  });
}

/**
 * Patches that give Connect the database logins (as environment variables its connectors read)
 * and each connector its database. With standbys, the connector creates its slot as a failover
 * slot (`slot.failover`), which CloudNativePG keeps on the standbys.
 */
export function connectWiring(layout: DatabaseLayout, profile: Profile): Manifest[] {
  const failover = profile.postgres.instances > 1 ? { "slot.failover": "true" } : {};
  const env = outboxServices().flatMap((s) => {
    const secret = appSecretOf(layout.clusterOf(s.name));
    const prefix = connectEnvPrefixOf(s.name);
    return [
      { name: `${prefix}_USER`, valueFrom: { secretKeyRef: { name: secret, key: "username" } } },
      {
        name: `${prefix}_PASSWORD`,
        valueFrom: { secretKeyRef: { name: secret, key: "password" } },
      },
    ];
  });
  return [
    {
      apiVersion: "kafka.strimzi.io/v1",
      kind: "KafkaConnect",
      metadata: { name: CONNECT_CLUSTER },
      spec: { template: { connectContainer: { env } } },
    },
    ...outboxServices().map((s) => {
      const config = connectorConfig(
        s.name,
        primaryServiceOf(layout.clusterOf(s.name)),
        profile,
      );
      return {
        apiVersion: "kafka.strimzi.io/v1",
        kind: "KafkaConnector",
        metadata: { name: connectorOf(s.name).name },
        spec: {
          config: {
            ...Object.fromEntries(Object.entries(config).filter(([k]) => isDatabaseKey(k))),
            ...failover,
          },
        },
      };
    }),
  ];
}
