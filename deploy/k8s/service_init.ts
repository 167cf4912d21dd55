/**
 * A service's init Job on Kubernetes (`deno run -A deploy/k8s/service_init.ts`, in the app image):
 * the part of service-init that Kubernetes leaves to it — the service's role and schema in its
 * database, as the cluster's superuser, and its migrations, as its role (`serviceInit` without
 * topics or connector) — while CloudNativePG makes the database, Strimzi the topics
 * (`KafkaTopic`) and the connectors (`KafkaConnector`), and each relay's own Job
 * (deploy/k8s/relay_init.ts) the publication its connector reads.
 *
 * Environment: `SERVICE` (a service, or `web` for the web front's read model); `DATABASE_URL`,
 * the service's database without a login, which `PGUSER` and `PGPASSWORD` (the cluster's
 * superuser) supply; `STOCKLET_SERVICE_DB_PASSWORD`, the password its role gets (required: no
 * default on a cluster); `STOCKLET_DB_LAYOUT`.
 * @module
 */
import { loadConfig, oneOf, str, url } from "@stocklet/shared/config";
import { DATABASE_OWNERS } from "@stocklet/shared/topology";
import { serviceInit } from "@stocklet/scripts/service_init";
import { runInit, sayer } from "./init_run.ts";

const say = sayer("service-init");

async function main(): Promise<void> {
  const cfg = loadConfig({
    service: oneOf("SERVICE", DATABASE_OWNERS.map((o) => o.name)),
    adminUrl: url("DATABASE_URL", { protocols: ["postgres", "postgresql"] }),
    rolePassword: str("STOCKLET_SERVICE_DB_PASSWORD"),
  });
  const report = await serviceInit(cfg.service, {
    adminUrl: cfg.adminUrl,
    rolePassword: cfg.rolePassword,
    // Strimzi owns the topics and the connectors: neither Kafka nor Connect is reached.
    topics: false,
    relay: false,
    kafkaBrokers: [],
    connectUrl: "",
    onProgress: say,
  });
  console.log(report.summary);
}

if (import.meta.main) await runInit("service-init", main);
