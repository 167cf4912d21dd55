/**
 * The compose init job of one service (or the web front): `deno run -A
 * deploy/docker/service_init.ts` with `SERVICE=<svc>`. It runs the same service-init as `deno task service-init` (database,
 * migrations from `migrations/<svc>/`, and for a service with an outbox its topics and Debezium
 * connector), but starts no infrastructure: the database, Kafka and Kafka Connect are compose
 * services, given by URL. It exits 0 once the connector streams, which is what the service waits
 * for (`service_completed_successfully`).
 *
 * Environment: `SERVICE`, `DATABASE_URL` (the service's database, as Debezium reaches it too) and,
 * for services with an outbox, `KAFKA_BROKERS` and `KAFKA_CONNECT_URL`.
 * @module
 */
import { ConfigError, list, loadConfig, oneOf, url } from "../../shared/config.ts";
import { DATABASE_OWNERS, databaseOwner } from "../../shared/topology.ts";
import { MigrationError } from "../../scripts/service_init/migrations.ts";
import { serviceInit } from "../../scripts/service_init/mod.ts";
import { InfraError } from "../../scripts/infra/process.ts";

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
    pgUrl: databaseUrl,
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
