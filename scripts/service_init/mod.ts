/**
 * service-init: what services need before they start, idempotently. For every service (and the
 * web front, which keeps a read model): its place in PostgreSQL (database, role, schema; see
 * `DbLayout` in shared/topology), its migrations (run as its own role, so it owns its tables),
 * and the topics it produces plus its dead-letter topic. Then the outbox relay: the Debezium
 * connector(s) of the layout, with their publication, and the removal of another layout's
 * connectors and slots.
 * @module
 */
import { join } from "node:path";
import {
  consumerGroupOf,
  databaseOwner,
  type DbLayout,
  dbLayout,
  type DbPlacement,
  deadLetterTopicOf,
  placementOf,
  relayOf,
  relaysOf,
  type RelaySpec,
} from "@stocklet/shared/topology";
import { topicsProducedBy } from "@stocklet/shared/topics";
import { serviceDbPassword } from "../infra/config.ts";
import { ensurePlacement, parsePgUrl, withDatabase } from "./database.ts";
import { forceVersion, migrate, migrationConnection } from "./migrate.ts";
import { loadMigrations, MIGRATIONS_ROOT } from "./migrations.ts";
import { applyRelay, type ConnectorAction, pruneRelays, relayConnectorConfig } from "./relay.ts";
import { ensureTopics, topicPartitions } from "./topics.ts";

export { ensureTopics, topicPartitions } from "./topics.ts";
export { prepareRelay, relayConnectorConfig } from "./relay.ts";
export { parsePgUrl, withDatabase } from "./database.ts";
export { MIGRATIONS_ROOT } from "./migrations.ts";
export { serviceDbPassword } from "../infra/config.ts";

/** Options shared by {@linkcode serviceInit} and {@linkcode relayInit}. */
export interface InitOptions {
  /** An administrator's `postgres://` URL of the cluster (any database). */
  adminUrl: string;
  /** Kafka Connect REST base URL. */
  connectUrl: string;
  kafkaBrokers: string[];
  /** @default dbLayout() (`STOCKLET_DB_LAYOUT`) */
  layout?: DbLayout;
  /** The services' role password. @default serviceDbPassword() */
  rolePassword?: string;
  /** Partitions of topics it creates. @default `STOCKLET_TOPIC_PARTITIONS` or 1 */
  partitions?: number;
  /** Connector wait timeout. @default 60000 */
  timeoutMs?: number;
  /** Idle WAL poll interval of the connectors (ms). @default 20 */
  pollMs?: number;
  /** Heartbeat interval of the connectors (ms). @default 10000 */
  heartbeatMs?: number;
  onProgress?: (line: string) => void;
}

/** Options for {@linkcode serviceInit}. */
export interface ServiceInitOptions extends InitOptions {
  /** @default `migrations/<svc>` */
  migrationsDir?: string;
  /** @default placementOf(svc, layout) */
  placement?: DbPlacement;
  /**
   * Also apply this service's relay now. Default: in the `isolated` layout (its own connector),
   * not in the `shared` one (one connector for all: {@linkcode initServices} applies it once every
   * outbox exists). A relay given here (a test fixture's own connector) is applied.
   */
  relay?: boolean | RelaySpec;
  /**
   * Create the topics it produces and its dead-letter topic. False where something else declares
   * them (Strimzi's `KafkaTopic`s on Kubernetes): then neither Kafka nor Connect is needed unless
   * `relay` asks for a connector. @default true
   */
  topics?: boolean;
  /** Roll back this many migrations instead (no topics, no connector). */
  down?: number;
  /** Record this migration version as clean without running anything (then stop). */
  force?: number;
}

/** What {@linkcode serviceInit} found and did. */
export interface InitReport {
  service: string;
  placement: DbPlacement;
  /** Whether the database had to be created. */
  createdDatabase: boolean;
  migrations: {
    from: number | null;
    to: number | null;
    /** Versions applied (or rolled back with `down`). */
    applied: number[];
    direction: "up" | "down" | "force";
  };
  /** Absent for services without an outbox (auth), and with `topics: false`. */
  topics?: { created: string[]; existing: string[] };
  /** When this call applied the service's relay. */
  connector?: { name: string; action: ConnectorAction };
  /** Whether anything changed. */
  changed: boolean;
  /** One line for humans, e.g. `order: up to date (migration 2, 5 topics exist)`. */
  summary: string;
}

/** The topics a service's init pre-creates: what it produces, and its dead-letter topic. */
export function topicsOfService(svc: string): string[] {
  return [...topicsProducedBy(svc), deadLetterTopicOf(consumerGroupOf(svc))];
}

/**
 * Prepares one service: its database, role and schema, its migrations (as its role), and for a
 * service with an outbox its topics (and its connector where it has one of its own). Running it
 * again changes nothing and says so.
 *
 * @example
 * ```ts
 * const infra = await infraUp(infraConfig("dev"));
 * const report = await serviceInit("order", {
 *   adminUrl: infra.pgUrl("postgres"),
 *   connectUrl: infra.connectUrl,
 *   kafkaBrokers: infra.kafkaBrokers,
 * });
 * console.log(report.summary); // "order: up to date (migration 2, 5 topics exist)"
 * ```
 */
export async function serviceInit(svc: string, opts: ServiceInitOptions): Promise<InitReport> {
  const spec = databaseOwner(svc);
  const layout = opts.layout ?? dbLayout();
  const placement = opts.placement ?? placementOf(svc, layout);
  const password = opts.rolePassword ?? serviceDbPassword();
  const say = opts.onProgress ?? (() => {});
  const made = await ensurePlacement(opts.adminUrl, placement, password);
  if (made.createdDatabase) say(`${svc}: created database ${placement.database}`);
  if (made.createdSchema) {
    say(`${svc}: created schema ${placement.schema} (role ${placement.role})`);
  }

  const migrations = await loadMigrations(opts.migrationsDir ?? join(MIGRATIONS_ROOT, svc));
  const url = withDatabase(opts.adminUrl, placement.database, {
    user: placement.role,
    password,
  });
  const sql = migrationConnection(url);
  let m: InitReport["migrations"];
  try {
    if (opts.force !== undefined) {
      await forceVersion(sql, opts.force);
      return {
        service: svc,
        placement,
        createdDatabase: made.createdDatabase,
        migrations: {
          from: null,
          to: opts.force === 0 ? null : opts.force,
          applied: [],
          direction: "force",
        },
        changed: true,
        summary: `${svc}: migration version forced to ${opts.force} (clean)`,
      };
    }
    m = await migrate(sql, svc, migrations, {
      ...(opts.down === undefined ? {} : { down: opts.down }),
      onProgress: say,
    });
  } finally {
    await sql.end({ timeout: 5 });
  }

  let topics: InitReport["topics"];
  let connector: InitReport["connector"];
  if (spec.outbox && opts.down === undefined) {
    if (opts.topics ?? true) {
      topics = await ensureTopics(
        opts.kafkaBrokers,
        topicsOfService(svc),
        opts.partitions ?? topicPartitions(),
      );
      if (topics.created.length) say(`${svc}: created topics ${topics.created.join(", ")}`);
    }
    const relay = typeof opts.relay === "object"
      ? opts.relay
      : (opts.relay ?? layout === "isolated")
      ? relayOf(svc, layout)
      : undefined;
    if (relay) {
      const action = await applyOneRelay(relay, opts);
      if (action !== "unchanged") say(`${svc}: connector ${relay.name} ${action}`);
      connector = { name: relay.name, action };
    }
  }

  const changed = made.createdDatabase || made.createdSchema || m.applied.length > 0 ||
    (topics?.created.length ?? 0) > 0 ||
    (connector !== undefined && connector.action !== "unchanged");
  const parts = [m.to === null ? "no migrations" : `migration ${m.to}`];
  if (m.applied.length) {
    parts.push(`${m.direction === "down" ? "rolled back" : "applied"} ${m.applied.join(", ")}`);
  }
  if (topics) {
    parts.push(
      topics.created.length
        ? `created ${topics.created.length} of ${
          topics.created.length + topics.existing.length
        } topics`
        : `${topics.existing.length} topics exist`,
    );
  }
  if (connector) parts.push(`connector ${connector.name} ${connector.action}`);
  return {
    service: svc,
    placement,
    createdDatabase: made.createdDatabase,
    migrations: m,
    ...(topics ? { topics } : {}),
    ...(connector ? { connector } : {}),
    changed,
    summary: `${svc}: ${changed ? "initialised" : "up to date"} (${parts.join(", ")})`,
  };
}

function applyOneRelay(relay: RelaySpec, opts: InitOptions): Promise<ConnectorAction> {
  const admin = parsePgUrl(opts.adminUrl);
  const config = relayConnectorConfig({
    relay,
    db: admin,
    partitions: opts.partitions ?? topicPartitions(),
    ...(opts.pollMs === undefined ? {} : { pollMs: opts.pollMs }),
    ...(opts.heartbeatMs === undefined ? {} : { heartbeatMs: opts.heartbeatMs }),
  });
  return applyRelay(opts.connectUrl, opts.adminUrl, relay, config, opts.timeoutMs);
}

/** What {@linkcode relayInit} did. */
export interface RelayReport {
  connectors: Array<{ name: string; action: ConnectorAction }>;
  /** Connectors and slots of another layout that were removed. */
  removed: string[];
}

/**
 * Applies every connector of the layout (after the services' migrations: the publication lists
 * their outbox tables) and removes connectors and slots of another layout.
 */
export async function relayInit(opts: InitOptions): Promise<RelayReport> {
  const say = opts.onProgress ?? (() => {});
  const relays = relaysOf(opts.layout ?? dbLayout());
  const connectors = [];
  for (const relay of relays) {
    const action = await applyOneRelay(relay, opts);
    if (action !== "unchanged") say(`relay: connector ${relay.name} ${action}`);
    connectors.push({ name: relay.name, action });
  }
  const removed = await pruneRelays(opts.connectUrl, opts.adminUrl, relays);
  if (removed.length) say(`relay: removed ${removed.join(", ")} (another layout)`);
  return { connectors, removed };
}

/** Prepares the given services, then the relay. */
export async function initServices(
  services: readonly string[],
  opts: InitOptions,
): Promise<{ services: InitReport[]; relay: RelayReport }> {
  const reports: InitReport[] = [];
  for (const svc of services) reports.push(await serviceInit(svc, { ...opts, relay: false }));
  return { services: reports, relay: await relayInit(opts) };
}
