/**
 * The two sizes of the Kubernetes deployment. `dev` (one small node) is what deploy/k8s/base
 * holds; `prod` (high availability) is what the prod overlay patches it to.
 * @module
 */
import { DEFAULT_UPSTREAM_TIMEOUT_MS } from "@stocklet/edge";

/** Requests and limits of a container (no CPU limit: throttling hurts latency more than it saves). */
export interface Resources {
  requests: { cpu: string; memory: string };
  limits: { memory: string };
}

/** A KafkaNodePool. */
export interface NodePool {
  name: string;
  roles: Array<"controller" | "broker">;
  replicas: number;
  storage: string;
  resources: Resources;
  heap: string;
}

/** One size of the deployment. */
export interface Profile {
  name: "dev" | "prod";
  /** Replicas of each service (the HorizontalPodAutoscaler's range). */
  services: { min: number; max: number; resources: Resources };
  edge: { min: number; max: number; resources: Resources };
  collector: { min: number; max: number; resources: Resources };
  /** Partitions of every topic: more than the largest consumer group is wasted. */
  partitions: number;
  kafka: { pools: NodePool[]; replicationFactor: number; minInsyncReplicas: number };
  connect: { replicas: number; resources: Resources; heap: string };
  postgres: { instances: number; storage: string; resources: Resources };
}

/** One small node: a combined Kafka node, one Postgres, one replica of everything. */
export const DEV: Profile = {
  name: "dev",
  services: {
    min: 1,
    max: 2,
    resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "384Mi" } },
  },
  edge: {
    min: 1,
    max: 2,
    resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "256Mi" } },
  },
  collector: {
    min: 1,
    max: 1,
    resources: { requests: { cpu: "20m", memory: "64Mi" }, limits: { memory: "256Mi" } },
  },
  // One partition per topic lets a consumer apply a backlog in one transaction (the fastest on a
  // small machine, see the README's Performance); a second replica then serves HTTP only.
  partitions: 1,
  kafka: {
    pools: [{
      name: "dual",
      roles: ["controller", "broker"],
      replicas: 1,
      storage: "5Gi",
      resources: { requests: { cpu: "200m", memory: "768Mi" }, limits: { memory: "768Mi" } },
      heap: "384m",
    }],
    replicationFactor: 1,
    minInsyncReplicas: 1,
  },
  connect: {
    replicas: 1,
    resources: { requests: { cpu: "200m", memory: "768Mi" }, limits: { memory: "768Mi" } },
    heap: "384m",
  },
  postgres: {
    instances: 1,
    storage: "5Gi",
    resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "512Mi" } },
  },
};

/**
 * High availability: every service on at least two nodes, three Kafka controllers and three
 * brokers (replication 3, min.insync 2), two Connect workers, a primary and two standbys per
 * database with the Debezium slot synchronised to them.
 */
export const PROD: Profile = {
  name: "prod",
  services: {
    min: 2,
    max: 6,
    resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { memory: "512Mi" } },
  },
  edge: {
    min: 2,
    max: 6,
    resources: { requests: { cpu: "250m", memory: "128Mi" }, limits: { memory: "512Mi" } },
  },
  collector: {
    min: 2,
    max: 4,
    resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "512Mi" } },
  },
  partitions: 6,
  kafka: {
    pools: [
      {
        name: "controller",
        roles: ["controller"],
        replicas: 3,
        storage: "20Gi",
        resources: { requests: { cpu: "250m", memory: "1Gi" }, limits: { memory: "1Gi" } },
        heap: "512m",
      },
      {
        name: "broker",
        roles: ["broker"],
        replicas: 3,
        storage: "100Gi",
        resources: { requests: { cpu: "1", memory: "4Gi" }, limits: { memory: "4Gi" } },
        heap: "2g",
      },
    ],
    replicationFactor: 3,
    minInsyncReplicas: 2,
  },
  connect: {
    replicas: 2,
    resources: { requests: { cpu: "500m", memory: "2Gi" }, limits: { memory: "2Gi" } },
    heap: "1g",
  },
  postgres: {
    instances: 3,
    storage: "50Gi",
    resources: { requests: { cpu: "500m", memory: "1Gi" }, limits: { memory: "2Gi" } },
  },
};

/**
 * Graceful shutdown, in seconds. On deletion a pod first sleeps in its preStop hook while it
 * leaves the Service's endpoints and Envoy, which resolves the headless Services every 5 s (its
 * default dns_refresh_rate), stops picking it; then it gets SIGTERM and drains as
 * shared/service.ts stops: HTTP (in-flight requests run to the edge's route timeout), background
 * tasks, consumers (the batch in hand commits, the group is left), gRPC (5 s grace), the
 * database pool (5 s). The grace period covers the hook and that drain, with a margin.
 */
export const SHUTDOWN: Shutdown = (() => {
  const preStop = 10;
  const requests = DEFAULT_UPSTREAM_TIMEOUT_MS / 1000;
  const drain = requests + 5 + 5 + 5; // HTTP, consumers, gRPC, database pool
  return {
    preStop,
    service: preStop + drain + 5,
    edgeDrain: requests,
    edge: preStop + requests + 5,
  };
})();

/** The shutdown timings of {@linkcode SHUTDOWN}, in seconds. */
export interface Shutdown {
  /** Seconds a pod keeps serving after it was told to go (preStop sleep). */
  preStop: number;
  /** The services' terminationGracePeriodSeconds. */
  service: number;
  /** Envoy drains its listeners for this long (`--drain-time-s`): the longest request. */
  edgeDrain: number;
  /** Envoy's terminationGracePeriodSeconds. */
  edge: number;
}
