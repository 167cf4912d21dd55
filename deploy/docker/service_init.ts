/**
 * The compose init job of one service (or the web front): `deno run -A
 * deploy/docker/service_init.ts` with `SERVICE=<svc>`. It runs the same service-init as `deno task
 * service-init` (database, role and schema, migrations from `migrations/<svc>/`, and for a service
 * with an outbox its topics and its Debezium connector: compose uses the `isolated` layout, a
 * database and connector per service), but starts no infrastructure: the database, Kafka and
 * Kafka Connect are compose services, given by URL. It exits 0 once the connector streams, which
 * is what the service waits for (`service_completed_successfully`).
 *
 * Environment: `SERVICE`, `DATABASE_URL` (an administrator of the service's database, as Debezium
 * reaches it too), `STOCKLET_DB_LAYOUT`, `STOCKLET_SERVICE_DB_PASSWORD` and, for services with an
 * outbox, `KAFKA_BROKERS` and `KAFKA_CONNECT_URL`.
 * @module
 */
import { ConfigError, list, loadConfig, oneOf, url } from "@stocklet/shared/config";
import { DATABASE_OWNERS, databaseOwner } from "@stocklet/shared/topology";
import { MigrationError } from "@stocklet/scripts/service_init/migrations";
import { serviceInit } from "@stocklet/scripts/service_init";
import { InfraError } from "@stocklet/scripts/infra/process";

async function main(): Promise<number> {
  const { service, databaseUrl } = loadConfig({
    service: oneOf("SERVICE", DATABASE_OWNERS.map((o) => o.name)),
    databaseUrl: url("DATABASE_URL", { protocols: ["postgres", "postgresql"] }),
  });
  // A service without an outbox (auth, the web front) needs neither Kafka nor Connect.
  const infra = databaseOwner(service).outbox
    ? loadConfig({
      kafkaBrokers: list("KAFKA_BROKERS"),
      connectUrl: url("KAFKA_CONNECT_URL", { protocols: ["http", "https"] }),
    })
    : { kafkaBrokers: [], connectUrl: "" };
  const report = await serviceInit(service, {
    adminUrl: databaseUrl,
    connectUrl: infra.connectUrl,
    kafkaBrokers: infra.kafkaBrokers,
    onProgress: (line) => console.error(`service-init: ${line}`),
  });
  console.log(report.summary);
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (e) {
    if (e instanceof ConfigError || e instanceof MigrationError || e instanceof InfraError) {
      console.error(`service-init: ${e.message}`);
      Deno.exit(1);
    }
    throw e;
  }
}
