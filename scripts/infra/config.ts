/**
 * Where the local infrastructure lives and which ports it uses, per profile.
 *
 * - `dev`: state in `.stocklet/infra`, ports from {@linkcode DEFAULT_PORTS}, each overridable by
 *   `STOCKLET_PG_PORT`, `STOCKLET_KAFKA_PORT`, `STOCKLET_KAFKA_CONTROLLER_PORT`, `STOCKLET_CONNECT_PORT`.
 * - `test`: state in `.stocklet/test-infra`, every port +100 (55532, 39192, 39193, 38183), each
 *   overridable by `STOCKLET_TEST_PG_PORT`, `STOCKLET_TEST_KAFKA_PORT`,
 *   `STOCKLET_TEST_KAFKA_CONTROLLER_PORT`, `STOCKLET_TEST_CONNECT_PORT`. A running dev stack and
 *   the test suite so never share databases or topics.
 *
 * The jars (Kafka, Connect, Debezium) are shared by both profiles in `.stocklet/jars`.
 * @module
 */
import { join } from "node:path";
import { DEFAULT_PORTS, placementOf } from "@stocklet/shared/topology";
import { STATE_DIR } from "../lib/paths.ts";

/** A set of infrastructure processes with its own state and ports. */
export type InfraProfile = "dev" | "test";

/** The processes of the local infrastructure, in start order. */
export type Component = "postgres" | "kafka" | "connect";

/** Every component, in start order (stop order is the reverse). */
export const COMPONENTS: readonly Component[] = ["postgres", "kafka", "connect"];

/** The TCP ports of one profile, all on 127.0.0.1. */
export interface InfraPorts {
  /** PostgreSQL. */
  postgres: number;
  /** Kafka broker (PLAINTEXT listener). */
  kafka: number;
  /** Kafka KRaft controller listener. */
  kafkaController: number;
  /** Kafka Connect REST API. */
  connect: number;
}

/** Everything the infra scripts need to know about one profile. */
export interface InfraConfig {
  profile: InfraProfile;
  /** The profile's runtime state: data, logs, pid files. */
  stateDir: string;
  /** Shared jar cache (`<jarsDir>/lib`, `<jarsDir>/plugins`). */
  jarsDir: string;
  /** Interface every process listens on. */
  host: string;
  ports: InfraPorts;
}

/** The port shift of the `test` profile. */
export const TEST_PORT_OFFSET = 100;

/**
 * An extra shift of every `test` port (infrastructure and application processes):
 * `STOCKLET_TEST_PORT_SHIFT`, default 0. Two checkouts (git worktrees) on one machine run their
 * own test stacks side by side when each has its own shift (e.g. 0, 200, 400).
 */
export function testPortShift(): number {
  const raw = Deno.env.get("STOCKLET_TEST_PORT_SHIFT");
  if (raw === undefined || raw === "") return 0;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 5000) {
    throw new Error(`STOCKLET_TEST_PORT_SHIFT=${raw} is not an integer between 0 and 5000`);
  }
  return n;
}

/** Database role (and password) that owns everything; a superuser with REPLICATION. */
export const PG_USER = "stocklet";
/** Password of {@linkcode PG_USER}. */
export const PG_PASSWORD = "stocklet";

const ENV_NAMES: Record<keyof InfraPorts, string> = {
  postgres: "PG_PORT",
  kafka: "KAFKA_PORT",
  kafkaController: "KAFKA_CONTROLLER_PORT",
  connect: "CONNECT_PORT",
};

/**
 * The environment variable that overrides a port of a profile.
 *
 * @example
 * ```ts
 * portEnvName("dev", "postgres"); // "STOCKLET_PG_PORT"
 * portEnvName("test", "kafka"); // "STOCKLET_TEST_KAFKA_PORT"
 * ```
 */
export function portEnvName(profile: InfraProfile, port: keyof InfraPorts): string {
  return `STOCKLET_${profile === "test" ? "TEST_" : ""}${ENV_NAMES[port]}`;
}

function portFromEnv(name: string, fallback: number): number {
  const raw = Deno.env.get(name);
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new Error(`${name}=${raw} is not a TCP port`);
  }
  return n;
}

/** Whether a string names a profile. */
export function isProfile(s: string): s is InfraProfile {
  return s === "dev" || s === "test";
}

/** The profile chosen by `STOCKLET_INFRA_PROFILE` (`dev` or `test`), `dev` by default. */
export function profileFromEnv(): InfraProfile {
  const raw = Deno.env.get("STOCKLET_INFRA_PROFILE") ?? "dev";
  if (!isProfile(raw)) throw new Error(`STOCKLET_INFRA_PROFILE=${raw}: expected dev or test`);
  return raw;
}

/**
 * The state folder and ports of a profile (see the module doc for the environment overrides).
 *
 * @param profile `dev` (default: `STOCKLET_INFRA_PROFILE` or `dev`) or `test`.
 * @returns The profile's configuration; nothing is created or started.
 * @example
 * ```ts
 * const cfg = infraConfig("test");
 * cfg.ports.postgres; // 55532
 * ```
 */
export function infraConfig(profile: InfraProfile = profileFromEnv()): InfraConfig {
  const shift = profile === "test" ? TEST_PORT_OFFSET + testPortShift() : 0;
  const port = (name: keyof InfraPorts, def: number): number =>
    portFromEnv(portEnvName(profile, name), def + shift);
  return {
    profile,
    // A shifted test profile is another stack (e.g. the scale-out test's, beside the suite's own).
    stateDir: join(
      STATE_DIR,
      profile === "test"
        ? (testPortShift() ? `test-infra-${testPortShift()}` : "test-infra")
        : "infra",
    ),
    jarsDir: join(STATE_DIR, "jars"),
    host: "127.0.0.1",
    ports: {
      postgres: port("postgres", DEFAULT_PORTS.postgres),
      kafka: port("kafka", DEFAULT_PORTS.kafka),
      kafkaController: port("kafkaController", DEFAULT_PORTS.kafkaController),
      connect: port("connect", DEFAULT_PORTS.connect),
    },
  };
}

/** The folders and files of a profile's state. */
export interface InfraLayout {
  logs: string;
  run: string;
  /** Owned by the postgres OS user (mode 0700): `data/` and `sock/` live inside. */
  pgRoot: string;
  pgData: string;
  pgSocketDir: string;
  kafkaDir: string;
  kafkaData: string;
  connectDir: string;
  libDir: string;
  pluginDir: string;
}

/** The folders and files of a profile's state (pure). */
export function layoutOf(cfg: InfraConfig): InfraLayout {
  const s = cfg.stateDir;
  return {
    logs: join(s, "logs"),
    run: join(s, "run"),
    pgRoot: join(s, "postgres"),
    pgData: join(s, "postgres", "data"),
    pgSocketDir: join(s, "postgres", "sock"),
    kafkaDir: join(s, "kafka"),
    kafkaData: join(s, "kafka", "data"),
    connectDir: join(s, "connect"),
    libDir: join(cfg.jarsDir, "lib"),
    pluginDir: join(cfg.jarsDir, "plugins"),
  };
}

/** The log file of a component. */
export function logFileOf(cfg: InfraConfig, component: Component | "maven" | "apt"): string {
  return join(layoutOf(cfg).logs, `${component}.log`);
}

/** The pid file of a component. */
export function pidFileOf(cfg: InfraConfig, component: Component): string {
  return join(layoutOf(cfg).run, `${component}.pid`);
}

/** A PostgreSQL URL for a database of this profile, as {@linkcode PG_USER}. */
export function pgUrlOf(cfg: InfraConfig, db: string): string {
  return `postgres://${PG_USER}:${PG_PASSWORD}@${cfg.host}:${cfg.ports.postgres}/${
    encodeURIComponent(db)
  }`;
}

/**
 * The password of the services' database roles: `STOCKLET_SERVICE_DB_PASSWORD`, or `stocklet` on
 * a local stack (whose PostgreSQL listens on 127.0.0.1 only).
 */
export function serviceDbPassword(): string {
  return Deno.env.get("STOCKLET_SERVICE_DB_PASSWORD") || "stocklet";
}

/**
 * A service's own database URL on this profile: its role (whose search_path is its schema) on
 * the database of its placement (see `placementOf` in shared/topology).
 *
 * @example
 * ```ts
 * serviceDbUrlOf(infraConfig("dev"), "order");
 * // "postgres://stocklet_order:stocklet@127.0.0.1:55432/stocklet"
 * ```
 */
export function serviceDbUrlOf(cfg: InfraConfig, service: string): string {
  const p = placementOf(service);
  return `postgres://${p.role}:${
    encodeURIComponent(serviceDbPassword())
  }@${cfg.host}:${cfg.ports.postgres}/${encodeURIComponent(p.database)}`;
}

/**
 * {@linkcode serviceDbUrlOf} through the cluster's Unix socket (libpq's `?host=<directory>`, which
 * `connectDb` in shared/db.ts understands): what the local stacks' services use. A socket costs
 * less than loopback TCP on both ends (no TCP stack per write; measured on 2 cores: about 7 % of
 * the machine's CPU per transaction); its directory is the server's own, mode 0700.
 */
export function serviceDbSocketUrlOf(cfg: InfraConfig, service: string): string {
  return `${serviceDbUrlOf(cfg, service)}?host=${encodeURIComponent(layoutOf(cfg).pgSocketDir)}`;
}
