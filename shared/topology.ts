/**
 * The system's shape in one place: the eight services, their default ports, where their data lives
 * and how their outboxes are relayed, and the default ports of the infrastructure. The dev runner,
 * service-init, the edge, the Envoy and compose generators and the tests all read it, so that they
 * cannot drift apart.
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
  | "payment"
  | "notification";

/** One service of the topology. */
export interface ServiceSpec {
  name: ServiceName;
  /** Default HTTP (REST gateway) port on the local machine. */
  httpPort: number;
  /** Default gRPC port on the local machine. */
  grpcPort: number;
  /** Whether it writes an outbox (relayed by Debezium). Auth and notification publish nothing. */
  outbox: boolean;
  /**
   * Its database pool's size by default (`DB_POOL_MAX`). Each connection is a PostgreSQL backend
   * of 5–7 MiB; a consumer runs one transaction at a time per partition, so most services need
   * few. The order service takes the public writes (every place is a transaction).
   */
  dbPool: number;
}

/** Every service, in start-up order (auth first: the others fetch its JWKS). */
export const SERVICES: readonly ServiceSpec[] = [
  { name: "auth", dbPool: 2, httpPort: 8091, grpcPort: 9191, outbox: false },
  { name: "order", dbPool: 5, httpPort: 8092, grpcPort: 9192, outbox: true },
  { name: "payment", dbPool: 3, httpPort: 8093, grpcPort: 9193, outbox: true },
  { name: "product", dbPool: 3, httpPort: 8094, grpcPort: 9194, outbox: true },
  { name: "shipping", dbPool: 3, httpPort: 8095, grpcPort: 9195, outbox: true },
  { name: "user", dbPool: 2, httpPort: 8096, grpcPort: 9196, outbox: true },
  { name: "warehouse", dbPool: 3, httpPort: 8097, grpcPort: 9197, outbox: true },
  { name: "notification", dbPool: 2, httpPort: 8098, grpcPort: 9198, outbox: false },
];

/**
 * The web front (`web/`): the storefront and the admin console. Like the edge it is no API service
 * (no gRPC, no public RPC: the edge hands it every path outside `/v1/`), but it owns a database
 * (its read model of the saga, of customers and of dead letters) and consumes events.
 */
export interface WebSpec {
  name: "web";
  /** Default HTTP port on the local machine. */
  httpPort: number;
  /** It publishes nothing. */
  outbox: false;
  /**
   * The path prefix of its server-sent event streams (live order pages): doors in front of it must
   * let these responses stream past their upstream timeout.
   */
  streamPrefix: string;
}

/** The web front. */
export const WEB: WebSpec = {
  name: "web",
  httpPort: 8090,
  outbox: false,
  streamPrefix: "/events/",
};

/** Something that owns tables (a schema, see {@linkcode placementOf}), with migrations in `migrations/<name>/`. */
export type DatabaseOwner = Pick<ServiceSpec, "outbox"> & {
  name: ServiceName | "web";
};

/** Every owner of a database: the services, then the web front. */
export const DATABASE_OWNERS: readonly DatabaseOwner[] = [...SERVICES, WEB];

/** The database owner by name (a service or `web`); throws for an unknown one. */
export function databaseOwner(name: string): DatabaseOwner {
  const o = DATABASE_OWNERS.find((x) => x.name === name);
  if (!o) throw new Error(`unknown service ${name}`);
  return o;
}

/**
 * The environment variable holding a service's HTTP base URL for the processes that call it over
 * REST (the edge, the web front), e.g. `ORDER_HTTP_URL`.
 */
export function httpUrlVar(service: ServiceName | "web"): string {
  return `${service.toUpperCase()}_HTTP_URL`;
}

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
  /** The local mail catcher's SMTP port (`STOCKLET_SMTP_PORT`): the notification service sends here. */
  smtp: 2525,
  /** The local mail catcher's mailbox page and API (`STOCKLET_MAILBOX_PORT`). */
  mailbox: 8025,
} as const;

/** The Kafka consumer group of a service. */
export function consumerGroupOf(service: string): string {
  return `${service}-service`;
}

/** The dead-letter topic of a consumer group. */
export function deadLetterTopicOf(group: string): string {
  return `${group}.dlq`;
}

/**
 * How the services' data sits in PostgreSQL (`STOCKLET_DB_LAYOUT`):
 *
 * - `shared` (the default on one machine): one database, a schema and a login role per service;
 *   each role owns its schema, has it as its `search_path` and no rights anywhere else, so a
 *   service sees only its own tables. One Debezium connector (one replication slot, one walsender
 *   decoding the WAL once) relays every outbox.
 * - `isolated`: a database per service (possibly a cluster each, as with one CloudNativePG
 *   `Cluster` per service), each with the same schema and role, and one connector per outbox.
 *
 * Services never qualify table names, so they run unchanged in either layout.
 */
export type DbLayout = "shared" | "isolated";

/** The database of the `shared` layout. */
export const SHARED_DATABASE = "stocklet";

/** The schema of the relay's own outbox (Debezium's heartbeats), in every relayed database. */
export const RELAY_SCHEMA = "stocklet_relay";

/** The topic Debezium's heartbeats are relayed to (through the relay outbox). */
export const RELAY_HEARTBEAT_TOPIC = "stocklet.relay.heartbeat";

/** The layout chosen by `STOCKLET_DB_LAYOUT` (`shared` by default). */
export function dbLayout(): DbLayout {
  const raw = Deno.env.get("STOCKLET_DB_LAYOUT") ?? "shared";
  if (raw !== "shared" && raw !== "isolated") {
    throw new Error(`STOCKLET_DB_LAYOUT=${raw}: expected shared or isolated`);
  }
  return raw;
}

/** Where one service's (or the web front's) tables live. */
export interface DbPlacement {
  database: string;
  /** Its schema (the service's name; `order` and `user` need quoting in SQL). */
  schema: string;
  /** Its login role, owner of the schema, with the schema as its search_path. */
  role: string;
}

/**
 * Where a service's tables live in a layout.
 *
 * @example
 * ```ts
 * placementOf("order", "shared"); // { database: "stocklet", schema: "order", role: "stocklet_order" }
 * placementOf("order", "isolated").database; // "order"
 * ```
 */
export function placementOf(service: string, layout: DbLayout = dbLayout()): DbPlacement {
  const s = databaseOwner(service);
  return {
    database: layout === "shared" ? SHARED_DATABASE : s.name,
    schema: s.name,
    role: `stocklet_${s.name}`,
  };
}

/** One Debezium connector: what it reads and the slot and publication it reads through. */
export interface RelaySpec {
  /** Connector name. */
  name: string;
  slot: string;
  publication: string;
  /** The database it decodes. */
  database: string;
  /** The services whose outboxes it relays. */
  services: ServiceName[];
  /** Qualified outbox tables (`"order".outbox`-style names without quotes: `order.outbox`). */
  tables: string[];
}

/** The connectors of a layout: one over every outbox (`shared`), or one per outbox. */
export function relaysOf(layout: DbLayout = dbLayout()): RelaySpec[] {
  const outboxed = SERVICES.filter((s) => s.outbox).map((s) => s.name);
  const relay = (name: string, database: string, services: ServiceName[]): RelaySpec => ({
    name,
    slot: name.replaceAll("-", "_"),
    publication: name.replaceAll("-", "_"),
    database,
    services,
    tables: [...services.map((s) => `${s}.outbox`), `${RELAY_SCHEMA}.outbox`],
  });
  if (layout === "shared") return [relay("stocklet-outbox", SHARED_DATABASE, outboxed)];
  return outboxed.map((s) => relay(`stocklet-${s}-outbox`, s, [s]));
}

/** The connector that relays a service's outbox. */
export function relayOf(service: string, layout: DbLayout = dbLayout()): RelaySpec {
  const r = relaysOf(layout).find((x) => x.services.includes(service as ServiceName));
  if (!r) throw new Error(`${service} has no outbox`);
  return r;
}
