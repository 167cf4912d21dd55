/**
 * Kafka on Strimzi (the `kafka.strimzi.io/v1` API of Strimzi 0.49 and later): the `Kafka`
 * cluster in KRaft mode with its `KafkaNodePool`s, a `KafkaTopic` for every topic the protos name
 * and every consumer group's dead-letter topic, and `KafkaConnect` built with the Debezium
 * PostgreSQL plugin from Maven Central (the version deploy/local/pom.xml pins, which the local
 * stack runs) with a `KafkaConnector` per relay of the layout, configured by the same function as
 * the local stack's connectors (`relayConnectorConfig`, scripts/service_init/relay.ts).
 * @module
 */
import { join } from "node:path";
import { TOPICS } from "@stocklet/shared/topics";
import {
  consumerGroupOf,
  deadLetterTopicOf,
  RELAY_HEARTBEAT_TOPIC,
  type RelaySpec,
} from "@stocklet/shared/topology";
import { relayConnectorConfig } from "../../service_init/mod.ts";
import { POM_DIR } from "../../infra/jars.ts";
import { connectWorkerProperties } from "../compose.ts";
import {
  COMPONENT,
  CONNECT_CLUSTER,
  CONNECT_OUTPUT_IMAGE,
  connectEnvPrefixOf,
  type DatabaseLayout,
  KAFKA_CLUSTER,
  KAFKA_PORT,
  KAFKA_VERSION,
  primaryServiceOf,
  relayClusterOf,
  STRIMZI_PODS,
} from "./names.ts";
import type { NodePool, Profile } from "./profiles.ts";
import type { Manifest } from "./yaml.ts";

/** The broker settings of a profile (Strimzi owns listeners, roles and storage). */
export function brokerConfig(profile: Profile): Record<string, string | number | boolean> {
  const rf = profile.kafka.replicationFactor;
  return {
    "default.replication.factor": rf,
    "min.insync.replicas": profile.kafka.minInsyncReplicas,
    "offsets.topic.replication.factor": rf,
    "transaction.state.log.replication.factor": rf,
    "transaction.state.log.min.isr": profile.kafka.minInsyncReplicas,
    "num.partitions": profile.partitions,
    // Topics are declared (KafkaTopic); a misspelt one must not spring into existence.
    "auto.create.topics.enable": false,
  };
}

/** The `Kafka` cluster: KRaft with node pools, one plain listener only our pods may reach. */
export function kafkaCluster(profile: Profile): Manifest {
  return {
    apiVersion: "kafka.strimzi.io/v1",
    kind: "Kafka",
    metadata: { name: KAFKA_CLUSTER },
    spec: {
      kafka: {
        version: KAFKA_VERSION,
        listeners: [{
          name: "plain",
          port: KAFKA_PORT,
          type: "internal",
          tls: false,
          // Strimzi writes the listener's NetworkPolicy: the services and Connect only.
          networkPolicyPeers: [
            {
              podSelector: {
                matchLabels: {
                  "app.kubernetes.io/part-of": "stocklet",
                  "app.kubernetes.io/component": COMPONENT.service,
                },
              },
            },
            { podSelector: { matchLabels: { ...STRIMZI_PODS.connect } } },
          ],
        }],
        config: brokerConfig(profile),
      },
      // The topic operator turns KafkaTopic resources into topics.
      entityOperator: { topicOperator: {} },
    },
  };
}

/** A `KafkaNodePool` (KRaft controllers, brokers, or both on one node). */
export function nodePool(pool: NodePool): Manifest {
  return {
    apiVersion: "kafka.strimzi.io/v1",
    kind: "KafkaNodePool",
    metadata: { name: pool.name, labels: { "strimzi.io/cluster": KAFKA_CLUSTER } },
    spec: {
      replicas: pool.replicas,
      roles: pool.roles,
      storage: {
        type: "jbod",
        volumes: [{
          id: 0,
          type: "persistent-claim",
          size: pool.storage,
          kraftMetadata: "shared",
          deleteClaim: false,
        }],
      },
      resources: pool.resources,
      jvmOptions: { "-Xms": pool.heap, "-Xmx": pool.heap },
    },
  };
}

/**
 * Every topic: what the protos name (shared/topics.ts), the relays' heartbeats and each consumer
 * group's dead letters.
 */
export function topicNames(consumers: readonly string[]): string[] {
  return [
    ...new Set([
      ...[...TOPICS.keys(), RELAY_HEARTBEAT_TOPIC].sort(),
      ...[...consumers].sort().map((svc) => deadLetterTopicOf(consumerGroupOf(svc))),
    ]),
  ];
}

/** A `KafkaTopic` (topic names are valid resource names: lower case, dots and dashes). */
export function kafkaTopic(topic: string, profile: Profile): Manifest {
  return {
    apiVersion: "kafka.strimzi.io/v1",
    kind: "KafkaTopic",
    metadata: { name: topic, labels: { "strimzi.io/cluster": KAFKA_CLUSTER } },
    spec: {
      topicName: topic,
      partitions: profile.partitions,
      replicas: profile.kafka.replicationFactor,
      config: { "min.insync.replicas": profile.kafka.minInsyncReplicas },
    },
  };
}

/** The Debezium version the local stack runs: `debezium.version` in deploy/local/pom.xml. */
export async function debeziumVersion(): Promise<string> {
  const pom = await Deno.readTextFile(join(POM_DIR, "pom.xml"));
  const v = /<debezium\.version>([^<]+)<\/debezium\.version>/.exec(pom)?.[1];
  if (!v) throw new Error(`no <debezium.version> in ${join(POM_DIR, "pom.xml")}`);
  return v;
}

/** Connect's worker settings taken from the local worker (scripts/infra/connect.ts). */
const LOCAL_WORKER_KEYS = ["key.converter", "value.converter", "offset.flush.interval.ms"];

/** The `KafkaConnect` cluster with Debezium, connectors managed as `KafkaConnector`s. */
export async function kafkaConnect(profile: Profile): Promise<Manifest> {
  const local = connectWorkerProperties();
  const worker = Object.fromEntries(LOCAL_WORKER_KEYS.map((k) => [k, local[k]!]));
  return {
    apiVersion: "kafka.strimzi.io/v1",
    kind: "KafkaConnect",
    metadata: {
      name: CONNECT_CLUSTER,
      annotations: { "strimzi.io/use-connector-resources": "true" },
    },
    spec: {
      version: KAFKA_VERSION,
      replicas: profile.connect.replicas,
      bootstrapServers: `${KAFKA_CLUSTER}-kafka-bootstrap:${KAFKA_PORT}`,
      groupId: local["group.id"],
      configStorageTopic: local["config.storage.topic"],
      offsetStorageTopic: local["offset.storage.topic"],
      statusStorageTopic: local["status.storage.topic"],
      config: {
        ...worker,
        // The brokers' default.replication.factor.
        "config.storage.replication.factor": -1,
        "offset.storage.replication.factor": -1,
        "status.storage.replication.factor": -1,
        // Connectors read the database logins from the worker's environment.
        "config.providers": "env",
        "config.providers.env.class":
          "org.apache.kafka.common.config.provider.EnvVarConfigProvider",
      },
      build: {
        output: { type: "docker", image: CONNECT_OUTPUT_IMAGE },
        plugins: [{
          name: "debezium-connector-postgres",
          artifacts: [{
            type: "maven",
            group: "io.debezium",
            artifact: "debezium-connector-postgres",
            version: await debeziumVersion(),
          }],
        }],
      },
      resources: profile.connect.resources,
      jvmOptions: { "-Xms": profile.connect.heap, "-Xmx": profile.connect.heap },
    },
  };
}

/**
 * A relay's database as Debezium reaches it: its cluster's primary, as the cluster's superuser,
 * whose login comes from Connect's environment (`${env:STOCKLET_DB_USER}`), which the database
 * component fills from CloudNativePG's Secret.
 */
export function connectorDatabase(
  layout: DatabaseLayout,
  relay: RelaySpec,
): { host: string; port: number; user: string; password: string } {
  const cluster = relayClusterOf(layout, relay);
  const prefix = connectEnvPrefixOf(cluster);
  return {
    host: primaryServiceOf(cluster),
    port: 5432,
    user: `\${env:${prefix}_USER}`,
    password: `\${env:${prefix}_PASSWORD}`,
  };
}

/**
 * Where the Kubernetes connectors differ from the local stack's on purpose: should Connect ever
 * create a topic (they are `KafkaTopic`s), the brokers' replication factor applies; with standbys,
 * the slot is a failover slot (Postgres 17), which CloudNativePG keeps on them.
 */
export function k8sConnectorOverrides(profile: Profile): Record<string, string> {
  return {
    "topic.creation.default.replication.factor": "-1",
    ...(profile.postgres.instances > 1 ? { "slot.failover": "true" } : {}),
  };
}

/**
 * A relay's `KafkaConnector`: the local stack's config (`relayConnectorConfig`) with Kubernetes'
 * differences. Strimzi restarts it with back-off when it fails (e.g. before the relay's init Job
 * created its publication).
 */
export function kafkaConnector(
  layout: DatabaseLayout,
  relay: RelaySpec,
  profile: Profile,
): Manifest {
  const { "connector.class": cls, "tasks.max": tasks, ...config } = {
    ...relayConnectorConfig({
      relay,
      db: connectorDatabase(layout, relay),
      partitions: profile.partitions,
    }),
    ...k8sConnectorOverrides(profile),
  };
  return {
    apiVersion: "kafka.strimzi.io/v1",
    kind: "KafkaConnector",
    metadata: { name: relay.name, labels: { "strimzi.io/cluster": CONNECT_CLUSTER } },
    spec: { class: cls, tasksMax: Number(tasks), autoRestart: { enabled: true }, config },
  };
}
