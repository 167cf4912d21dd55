/**
 * `deno task service-init [svc…|--all] [--profile dev|test] [--down N] [--force V]`
 *
 * Prepares services against the local infrastructure (started first if needed): database, role
 * and schema, migrations from `migrations/<svc>/`, the topics of services with an outbox, then the
 * outbox relay (Debezium). Idempotent: a second run prints `up to date`.
 *
 *   --down N   roll back the last N migrations (of the named services)
 *   --force V  record migration version V as applied and clean (after fixing a dirty database
 *              by hand); 0 means none
 * @module
 */
import { DATABASE_OWNERS } from "@stocklet/shared/topology";
import { infraConfig, InfraError, infraUp, isProfile, profileFromEnv } from "./infra/mod.ts";
import { MigrationError } from "./service_init/migrations.ts";
import { relayInit, serviceInit } from "./service_init/mod.ts";

export {
  ensureTopics,
  type InitReport,
  MIGRATIONS_ROOT,
  relayConnectorConfig,
  relayInit,
  serviceInit,
  type ServiceInitOptions,
  topicPartitions,
  topicsOfService,
} from "./service_init/mod.ts";

/** Everything with a database: the seven services and the web front. */
const NAMES: readonly string[] = DATABASE_OWNERS.map((o) => o.name);

const USAGE =
  `usage: deno task service-init <svc…|--all> [--profile dev|test] [--down N] [--force V]
  services: ${NAMES.join(", ")}`;

function intArg(flag: string, raw: string | undefined): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new InfraError(`${flag} needs a whole number`);
  return n;
}

async function main(): Promise<number> {
  let profile = profileFromEnv();
  let all = false;
  let down: number | undefined;
  let force: number | undefined;
  const services: string[] = [];
  const argv = Deno.args;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--all") all = true;
    else if (a === "--profile" || a.startsWith("--profile=")) {
      const v = a.includes("=") ? a.slice(a.indexOf("=") + 1) : argv[++i] ?? "";
      if (!isProfile(v)) throw new InfraError(`--profile ${v}: expected dev or test`);
      profile = v;
    } else if (a === "--down") down = intArg(a, argv[++i]);
    else if (a === "--force") force = intArg(a, argv[++i]);
    else if (a === "-h" || a === "--help") {
      console.log(USAGE);
      return 0;
    } else if (NAMES.includes(a)) services.push(a);
    else {
      console.error(`service-init: unknown service or option ${a}\n${USAGE}`);
      return 2;
    }
  }
  const targets = all ? [...NAMES] : services;
  if (!targets.length) {
    console.error(USAGE);
    return 2;
  }
  if ((down !== undefined || force !== undefined) && all) {
    throw new InfraError("--down and --force need the services named, not --all");
  }
  const say = (line: string): void => console.error(`service-init: ${line}`);
  const infra = await infraUp(infraConfig(profile), { onProgress: say });
  let failed = 0;
  const common = {
    adminUrl: infra.pgUrl("postgres"),
    connectUrl: infra.connectUrl,
    kafkaBrokers: infra.kafkaBrokers,
    onProgress: say,
  };
  for (const svc of targets) {
    try {
      const report = await serviceInit(svc, {
        ...common,
        relay: false,
        ...(down === undefined ? {} : { down }),
        ...(force === undefined ? {} : { force }),
      });
      console.log(report.summary);
    } catch (e) {
      failed++;
      if (e instanceof MigrationError || e instanceof InfraError) {
        console.error(`service-init: ${e.message}`);
      } else {
        console.error(`service-init: ${svc} failed:`, e);
      }
    }
  }
  if (!failed && down === undefined && force === undefined) {
    const relay = await relayInit(common);
    for (const c of relay.connectors) console.log(`relay: connector ${c.name} ${c.action}`);
  }
  return failed ? 1 : 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (e) {
    if (e instanceof InfraError) {
      console.error(`service-init: ${e.message}`);
      Deno.exit(1);
    }
    throw e;
  }
}
