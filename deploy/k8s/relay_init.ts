/**
 * A relay's Jobs on Kubernetes (`deno run -A deploy/k8s/relay_init.ts`, in the app image), in one
 * of two modes (`RELAY_MODE`):
 *
 * - `prepare` (the init Job): once the migrations of every service it relays have made their
 *   outbox tables, it prepares the relay's database for its connector — the relay outbox
 *   (heartbeats) and the publication of the outboxes' inserts (`prepareRelay`). Strimzi's
 *   `KafkaConnector` restarts with back-off until then.
 * - `repair` (the repair CronJob, every few minutes): when PostgreSQL invalidated the relay's
 *   slot, it repairs the relay through its `KafkaConnector` (deploy/k8s/relay_repair.ts: stop,
 *   reset offsets, new slot, publish what the outboxes still hold again); otherwise it exits at
 *   once. It needs the service account that may patch the layout's connectors.
 *
 * Environment: `RELAY` (a connector of the layout, see `relaysOf`), `RELAY_MODE`,
 * `STOCKLET_DB_LAYOUT`, `DATABASE_URL`, the relay's database without a login, which `PGUSER` and
 * `PGPASSWORD` (the cluster's superuser) supply.
 * @module
 */
import postgres from "postgres";
import { loadConfig, oneOf, url } from "@stocklet/shared/config";
import { RELAY_SCHEMA, relaysOf, type RelaySpec } from "@stocklet/shared/topology";
import { prepareRelay } from "@stocklet/scripts/service_init/relay";
import { runInit, sayer, waitUntil } from "./init_run.ts";
import { inClusterApi } from "./kube_api.ts";
import { repairRelay, StrimziConnector } from "./relay_repair.ts";

/** The modes of the entry. */
export const RELAY_MODES = ["prepare", "repair"] as const;

async function prepare(say: (line: string) => void, adminUrl: string, relay: RelaySpec) {
  const outboxes = relay.tables.filter((t) => t !== `${RELAY_SCHEMA}.outbox`);
  const sql = postgres(adminUrl, { max: 1, connect_timeout: 10, onnotice: () => {} });
  try {
    await waitUntil(say, async () => {
      const have = new Set(
        (await sql<{ t: string }[]>`
          select schemaname || '.' || tablename as t from pg_tables
          where schemaname || '.' || tablename in ${sql(outboxes)}`).map((r) => r.t),
      );
      const missing = outboxes.filter((t) => !have.has(t));
      return missing.length === 0 ||
        `waiting for ${missing.join(", ")} (the services' init Jobs make them)`;
    });
  } finally {
    await sql.end({ timeout: 5 });
  }
  await prepareRelay(adminUrl, relay);
  say(`${relay.name}: publication ${relay.publication} carries ${relay.tables.join(", ")}`);
}

async function main(): Promise<void> {
  const relays = relaysOf();
  const cfg = loadConfig({
    relay: oneOf("RELAY", relays.map((r) => r.name)),
    mode: oneOf("RELAY_MODE", RELAY_MODES, { default: "prepare" }),
    adminUrl: url("DATABASE_URL", { protocols: ["postgres", "postgresql"] }),
  });
  const relay = relays.find((r) => r.name === cfg.relay)!;
  const say = sayer(`relay-${cfg.mode}`);
  if (cfg.mode === "prepare") return await prepare(say, cfg.adminUrl, relay);
  const connector = new StrimziConnector(await inClusterApi(), relay.name);
  const outcome = await repairRelay({ dbUrl: cfg.adminUrl, relay, connector, say });
  if (outcome === "healthy") say(`${relay.name}: slot ${relay.slot} is fine`);
}

if (import.meta.main) await runInit("relay-init", main);
