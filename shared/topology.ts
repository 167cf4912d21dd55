/**
 * The system's shape in one place: the seven services, their default ports and databases, and the
 * default ports of the infrastructure. The dev runner, service-init, the edge, the Envoy and compose
 * generators and the tests all read it, so that they cannot drift apart.
 * @module
 */

/** A service's name. */
export type ServiceName =
  | "auth"
  | "user"
  | "product"
  | "warehouse"
  | "order"
  | "shipping"
  | "payment";

/** One service of the topology. */
export interface ServiceSpec {
  name: ServiceName;
  /** Default HTTP (REST gateway) port on the local machine. */
  httpPort: number;
  /** Default gRPC port on the local machine. */
  grpcPort: number;
  /** Its own database. */
  database: string;
  /** Whether it writes an outbox (and so has a Debezium connector). Auth has none. */
  outbox: boolean;
  /**
   * How often its Debezium connector polls the WAL when idle (ms). Every idle connector costs CPU
   * in Connect, so only the saga's hops poll fast; user registrations can wait 100 ms.
   */
  outboxPollMs?: number;
}

/** Every service, in start-up order (auth first: the others fetch its JWKS). */
export const SERVICES: readonly ServiceSpec[] = [
  { name: "auth", httpPort: 8091, grpcPort: 9191, database: "auth", outbox: false },
  { name: "order", httpPort: 8092, grpcPort: 9192, database: "order", outbox: true },
  { name: "payment", httpPort: 8093, grpcPort: 9193, database: "payment", outbox: true },
  { name: "product", httpPort: 8094, grpcPort: 9194, database: "product", outbox: true },
  { name: "shipping", httpPort: 8095, grpcPort: 9195, database: "shipping", outbox: true },
  {
    name: "user",
    httpPort: 8096,
    grpcPort: 9196,
    database: "user",
    outbox: true,
    outboxPollMs: 100,
  },
  { name: "warehouse", httpPort: 8097, grpcPort: 9197, database: "warehouse", outbox: true },
];

/** Names of every service. */
export const SERVICE_NAMES: readonly ServiceName[] = SERVICES.map((s) => s.name);

/** The spec of a service by name; throws for an unknown one. */
export function serviceSpec(name: string): ServiceSpec {
  const s = SERVICES.find((x) => x.name === name);
  if (!s) throw new Error(`unknown service ${name}`);
  return s;
}

/**
 * A direct call from one service to another's API, besides the auth service's JWKS, which every
 * service fetches. The deployments wire the address (`<SERVICE>_GRPC_ADDR` or `_HTTP_URL`) and
 * let exactly these flows through.
 */
export interface ServiceCall {
  from: ServiceName;
  to: ServiceName;
  over: "grpc" | "http";
}

/** Every direct call between services. */
export const CALLS: readonly ServiceCall[] = [
  // Auth checks credentials with the user service (USER_GRPC_ADDR).
  { from: "auth", to: "user", over: "grpc" },
];

/** The calls a service makes. */
export function callsOf(service: string): ServiceCall[] {
  return CALLS.filter((c) => c.from === service);
}

/**
 * The environment variable that holds a call's address: `<SERVICE>_GRPC_ADDR` (`host:port`) for
 * gRPC, `<SERVICE>_HTTP_URL` (`http://host:port`) for HTTP.
 *
 * @example
 * ```ts
 * callVariableOf({ from: "auth", to: "user", over: "grpc" }); // "USER_GRPC_ADDR"
 * ```
 */
export function callVariableOf(call: ServiceCall): string {
  return `${call.to.toUpperCase()}_${call.over === "grpc" ? "GRPC_ADDR" : "HTTP_URL"}`;
}

/** Default local ports of the infrastructure and the edge (each overridable by environment). */
export const DEFAULT_PORTS = {
  /** PostgreSQL (`STOCKLET_PG_PORT`). */
  postgres: 55432,
  /** Kafka broker (`STOCKLET_KAFKA_PORT`). */
  kafka: 39092,
  /** Kafka KRaft controller (`STOCKLET_KAFKA_CONTROLLER_PORT`). */
  kafkaController: 39093,
  /** Kafka Connect REST (`STOCKLET_CONNECT_PORT`). */
  connect: 38083,
  /** The edge (`STOCKLET_EDGE_PORT`). */
  edge: 8080,
  /** The dev stack's OTLP/HTTP trace receiver (`STOCKLET_OTLP_PORT`). */
  otlp: 4318,
} as const;

/** The Kafka consumer group of a service. */
export function consumerGroupOf(service: string): string {
  return `${service}-service`;
}

/** The dead-letter topic of a consumer group. */
export function deadLetterTopicOf(group: string): string {
  return `${group}.dlq`;
}

/** The Debezium connector of a service's outbox, its replication slot and publication. */
export function connectorOf(
  service: string,
): { name: string; slot: string; publication: string } {
  return {
    name: `${service}-outbox`,
    slot: `stocklet_${service}_outbox`,
    publication: `stocklet_${service}_outbox`,
  };
}
