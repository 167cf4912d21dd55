/**
 * Kafka on Strimzi (the `kafka.strimzi.io/v1` API of Strimzi 0.49 and later): the `Kafka`
 * cluster in KRaft mode with its `KafkaNodePool`s, a `KafkaTopic` for every topic the protos name
 * and every consumer group's dead-letter topic, and `KafkaConnect` built with the Debezium
 * PostgreSQL plugin from Maven Central (the version deploy/local/pom.xml pins, which the local
 * stack runs) with one `KafkaConnector` per outbox, configured by the same function as the local
 * stack's connectors (scripts/service_init/connector.ts).
 * @module
 */
import { join } from "node:path";
import { TOPICS } from "../../../shared/topics.ts";
import { connectorOf, consumerGroupOf, deadLetterTopicOf } from "../../../shared/topology.ts";
import { outboxConnectorConfig } from "../../service_init/connector.ts";
import { POM_DIR } from "../../infra/jars.ts";
import { connectWorkerProperties } from "../compose.ts";
import {
  COMPONENT,
  CONNECT_CLUSTER,
  CONNECT_OUTPUT_IMAGE,
  connectEnvPrefixOf,
  KAFKA_CLUSTER,
  KAFKA_PORT,
  KAFKA_VERSION,
  outboxServices,
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

/** Every topic: what the protos name (shared/topics.ts) and each consumer group's dead letters. */
export function topicNames(consumers: readonly string[]): string[] {
  return [
    ...[...TOPICS.keys()].sort(),
    ...[...consumers].sort().map((svc) => deadLetterTopicOf(consumerGroupOf(svc))),
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
 * A database as Debezium reaches it: the login comes from Connect's environment
 * (`${env:ORDER_DB_USER}`), which the database component fills from CloudNativePG's Secret.
 */
export function connectorDatabase(
  svc: string,
  host: string,
): { host: string; port: number; user: string; password: string; database: string } {
  const prefix = connectEnvPrefixOf(svc);
  return {
    host,
    port: 5432,
    user: `\${env:${prefix}_USER}`,
    password: `\${env:${prefix}_PASSWORD}`,
    database: svc,
  };
}

/** The local stack's connector config for a service, with its database at host. */
export function connectorConfig(
  svc: string,
  host: string,
  profile: Profile,
): Record<string, string> {
  const spec = outboxServices().find((s) => s.name === svc);
  if (!spec) throw new Error(`${svc} has no outbox`);
  return {
    ...outboxConnectorConfig({
      names: connectorOf(svc),
      db: connectorDatabase(svc, host),
      partitions: profile.partitions,
      ...(spec.outboxPollMs ? { pollMs: spec.outboxPollMs } : {}),
    }),
    // Topics are KafkaTopics; should Connect ever create one, the brokers' factor applies.
    "topic.creation.default.replication.factor": "-1",
  };
}

/** Keys of a connector's config that name its database: the database component sets them. */
export function isDatabaseKey(key: string): boolean {
  return key.startsWith("database.");
}

/**
 * A service's `KafkaConnector`, without its database (see {@linkcode isDatabaseKey}). Strimzi
 * restarts it with back-off when it fails (e.g. before the init Job created its publication).
 */
export function kafkaConnector(svc: string, profile: Profile): Manifest {
  const { "connector.class": cls, "tasks.max": tasks, ...config } = connectorConfig(
    svc,
    "<set by the database component>",
    profile,
  );
  return {
    apiVersion: "kafka.strimzi.io/v1",
    kind: "KafkaConnector",
    metadata: { name: connectorOf(svc).name, labels: { "strimzi.io/cluster": CONNECT_CLUSTER } },
    spec: {
      class: cls,
      tasksMax: Number(tasks),
      autoRestart: { enabled: true },
      config: Object.fromEntries(Object.entries(config).filter(([k]) => !isDatabaseKey(k))),
    },
  };
}
