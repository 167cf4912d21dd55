/**
 * A relay's init Job on Kubernetes (`deno run -A deploy/k8s/relay_init.ts`, in the app image):
 * once the migrations of every service it relays have made their outbox tables, it prepares the
 * relay's database for its connector — the relay outbox (heartbeats) and the publication of the
 * outboxes' inserts (`prepareRelay`). Strimzi's `KafkaConnector` restarts with back-off until
 * then.
 *
 * Environment: `RELAY` (a connector of the layout, see `relaysOf`), `STOCKLET_DB_LAYOUT`,
 * `DATABASE_URL`, the relay's database without a login, which `PGUSER` and `PGPASSWORD` (the
 * cluster's superuser) supply.
 * @module
 */
import postgres from "postgres";
import { loadConfig, oneOf, url } from "@stocklet/shared/config";
import { RELAY_SCHEMA, relaysOf } from "@stocklet/shared/topology";
import { prepareRelay } from "@stocklet/scripts/service_init/relay";
import { runInit, sayer, waitUntil } from "./init_run.ts";

const say = sayer("relay-init");

async function main(): Promise<void> {
  const relays = relaysOf();
  const cfg = loadConfig({
    relay: oneOf("RELAY", relays.map((r) => r.name)),
    adminUrl: url("DATABASE_URL", { protocols: ["postgres", "postgresql"] }),
  });
  const relay = relays.find((r) => r.name === cfg.relay)!;
  const outboxes = relay.tables.filter((t) => t !== `${RELAY_SCHEMA}.outbox`);
  const sql = postgres(cfg.adminUrl, { max: 1, connect_timeout: 10, onnotice: () => {} });
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
  await prepareRelay(cfg.adminUrl, relay);
  say(`${relay.name}: publication ${relay.publication} carries ${relay.tables.join(", ")}`);
}

if (import.meta.main) await runInit("relay-init", main);
