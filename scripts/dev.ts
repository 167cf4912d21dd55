/**
 * `deno task dev`: the whole system on this machine, one command. Infrastructure up → service-init
 * for all eight services → the mail catcher, the eight services, the web front and the edge
 * (supervised: coloured logs, a crashed process is reported and restarted with backoff) → demo
 * data through the public API → the URLs, credentials and a walkthrough. Spans and metrics go to a
 * built-in OTLP collector, so `deno task trace <order_id>` shows an order's saga and `deno task
 * top` the system live; `--zipkin` also starts Zipkin (its UI on :9411) and forwards every span to
 * it. The courier simulator dispatches and delivers approved orders by itself
 * (`STOCKLET_COURIER=off` turns it off), and the notification service's emails land in the mailbox
 * page (or `deno task mail`). Ctrl-C stops everything this run started.
 */
import { parseArgs } from "node:util";
import { DATABASE_OWNERS, type ServiceName } from "@stocklet/shared/topology";
import { type Component, infraConfig, infraUp, stopComponent } from "./infra/mod.ts";
import { portOpen, waitUntil } from "./infra/process.ts";
import { initServices } from "./service_init/mod.ts";
import { isReady } from "./stack/apps.ts";
import { appEnv, type AppName, collectorPort, httpPortOf, stackPorts } from "./stack/config.ts";
import { buildBundles } from "./stack/bundle.ts";
import { stackApps } from "./stack/test_stack.ts";
import { describePartitions, raisePartitions } from "./stack/partitions.ts";
import { topicPartitions } from "@stocklet/shared/kafka";
import { startTraceCollector, type TraceCollector } from "./trace/collector.ts";
import { client, type DemoData, seedDemo } from "./dev/seed.ts";
import { Supervisor } from "./dev/supervisor.ts";
import { startZipkin, type Zipkin } from "./dev/zipkin.ts";

const BOLD = "\x1b[1m";
const DIM = "\x1b[2m";
const RESET = "\x1b[0m";
/** Width of the name column (wider with replicas: `notification@1`). */
let nameWidth = 12;
const say = (line: string) => console.error(`${BOLD}${"dev".padEnd(nameWidth)}${RESET} │ ${line}`);

/** The admin account the user service creates at start-up. */
const ADMIN = {
  email: Deno.env.get("STOCKLET_ADMIN_EMAIL") ?? "admin@stocklet.local",
  password: Deno.env.get("STOCKLET_ADMIN_PASSWORD") ?? "stocklet-admin",
};

/** The edge's rate limits in dev: off unless asked for (`STOCKLET_RATE_LIMIT=on`). */
const RATE_LIMIT = Deno.env.get("STOCKLET_RATE_LIMIT") ?? "off";
/** The courier simulator's settings in dev: on unless `STOCKLET_COURIER` says otherwise. */
const COURIER = {
  on: !["off", "false", "0", "no"].includes(
    (Deno.env.get("STOCKLET_COURIER") ?? "on").toLowerCase(),
  ),
  dispatchMs: Deno.env.get("STOCKLET_COURIER_DISPATCH_MS") ?? "5000",
  deliverMs: Deno.env.get("STOCKLET_COURIER_DELIVER_MS") ?? "10000",
};

function walkthrough(
  edge: string,
  demo: DemoData,
  tracing: boolean,
  storefront: boolean,
  zipkin: string | undefined,
  mailbox: string,
): string {
  const p = demo.products[0]!;
  const login =
    `TOKEN=$(curl -s ${edge}/v1/auth/login -d '{"email":"${demo.customer.email}","password":"${demo.customer.password}"}' | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')`;
  return [
    "",
    `${BOLD}Stocklet is up.${RESET}`,
    ...(storefront
      ? [
        `  ${BOLD}Storefront          ${edge}/${RESET}   ${DIM}(not logged in; log in as ${demo.customer.email} / ${demo.customer.password})${RESET}`,
      ]
      : []),
    `  Public API (edge)   ${edge}`,
    `  OpenAPI / Swagger   ${edge}/openapi.json   ${edge}/docs`,
    `  Admin               ${ADMIN.email} / ${ADMIN.password}`,
    `  Demo customer       ${demo.customer.email} / ${demo.customer.password}  (id ${demo.customer.id})`,
    tracing ? `  Traces              deno task trace <order_id>` : `  Traces              off`,
    tracing ? `  Metrics             deno task top` : `  Metrics             off`,
    ...(zipkin ? [`  Zipkin              ${zipkin}/zipkin/`] : []),
    `  Mailbox             ${mailbox}   (or: deno task mail)`,
    COURIER.on
      ? `  Courier simulator   on: dispatch ${COURIER.dispatchMs} ms after approval, delivery ${COURIER.deliverMs} ms after dispatch (STOCKLET_COURIER=off to do it by hand)`
      : `  Courier simulator   off: dispatch and deliver as admin (README, "Fulfilment")`,
    "",
    `${BOLD}Walkthrough${RESET} ${DIM}(in another terminal)${RESET}`,
    `  1. Log in:`,
    `     ${login}`,
    `  2. List products:`,
    `     curl -s ${edge}/v1/product/list`,
    `  3. Place an order (${p.name}, ×2):`,
    `     curl -s ${edge}/v1/order/place -H "authorization: Bearer $TOKEN" -d '{"${p.id}": 2}'`,
    `  4. Watch it reach ORDER_STATUS_APPROVED (use the id from step 3):`,
    `     curl -s ${edge}/v1/order/orders/<order_id> -H "authorization: Bearer $TOKEN"`,
    `  5. View the balance (debited by the order's total):`,
    `     curl -s ${edge}/v1/payment/balance/${demo.customer.id} -H "authorization: Bearer $TOKEN"`,
    COURIER.on
      ? `  6. Watch it go SHIPPED (carrier, tracking number) and COMPLETED, as the courier moves it`
      : `  6. Dispatch it as the admin: POST ${edge}/v1/shipping/shipment/<shipping_id>/dispatch`,
    `  7. Or cancel it before it ships (refunded to the cent):`,
    `     curl -s -X POST ${edge}/v1/order/orders/<order_id>/cancel -H "authorization: Bearer $TOKEN"`,
    `  8. The emails it sent: ${mailbox}, or`,
    `     curl -s ${edge}/v1/notification/list -H "authorization: Bearer $TOKEN"`,
    tracing ? `  Then: deno task trace <order_id>` : "",
    "",
    `${DIM}Ctrl-C stops everything.${RESET}`,
    "",
  ].join("\n");
}

async function main(): Promise<void> {
  const { values: flags } = parseArgs({
    args: Deno.args,
    options: { zipkin: { type: "boolean", default: false } },
  });
  const t0 = performance.now();
  const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
  const cfg = infraConfig("dev");
  const ports = stackPorts("dev");
  const apps = await stackApps();
  nameWidth = Math.max(12, ...apps.map((a) => a.length));

  // Fail fast when another stack holds our ports.
  const busy: string[] = [];
  for (const app of apps) {
    const port = httpPortOf(app, ports);
    if (await portOpen("127.0.0.1", port, 300)) busy.push(`${app} :${port}`);
  }
  if (busy.length) {
    say(`ports already in use: ${busy.join(", ")} — is another \`deno task dev\` running?`);
    Deno.exit(1);
  }

  say("infrastructure (PostgreSQL, Kafka, Kafka Connect + Debezium)…");
  const infra = await infraUp(cfg, { onProgress: (l) => say(`  ${l}`) });

  say("service-init (schemas, migrations, topics, the outbox relay)…");
  const init = await initServices(DATABASE_OWNERS.map((o) => o.name), {
    adminUrl: infra.pgUrl("postgres"),
    connectUrl: infra.connectUrl,
    kafkaBrokers: infra.kafkaBrokers,
    onProgress: (l) => say(`  ${l}`),
  });
  for (const r of init.services) say(`  ${r.summary}`);
  for (const c of init.relay.connectors) say(`  relay: connector ${c.name} ${c.action}`);
  // STOCKLET_TOPIC_PARTITIONS raised since the topics were made: added now, before any process runs.
  const partitions = describePartitions(
    await raisePartitions(infra.kafkaBrokers),
    topicPartitions(),
  );
  if (partitions) say(`  ${partitions}`);

  const otlpPort = collectorPort("dev");
  let collector: TraceCollector | undefined;
  let zipkin: Zipkin | undefined;
  if (Deno.env.get("STOCKLET_TRACING") !== "off") {
    if (flags.zipkin) {
      say("zipkin (its server jar from Maven Central on first use)…");
      try {
        zipkin = await startZipkin(cfg, (l) => say(`  ${l}`));
        say(`  zipkin on ${zipkin.url}/zipkin/`);
      } catch (e) {
        say(`  zipkin off: ${e instanceof Error ? e.message : e}`);
      }
    }
    try {
      collector = await startTraceCollector(otlpPort, infra.pgUrl("postgres"), {
        ...(zipkin ? { zipkinUrl: zipkin.url } : {}),
        say,
      });
      say(
        `collector on :${otlpPort} (OTLP/HTTP JSON: spans → Postgres database "traces"${
          zipkin ? " and Zipkin" : ""
        }, metrics → deno task top)`,
      );
    } catch (e) {
      say(
        `tracing off: cannot start the collector on :${otlpPort} (${
          e instanceof Error ? e.message : e
        })`,
      );
    }
  }

  const supervisor = new Supervisor({
    profile: "dev",
    width: nameWidth,
    rawLogs: Deno.env.get("STOCKLET_DEV_LOGS") === "json",
    say,
  });
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say("stopping…");
    await supervisor.stopAll();
    await collector?.stop().catch(() => {});
    await zipkin?.stop().catch(() => {});
    for (const c of [...infra.started].reverse() as Component[]) {
      say(`  stopping ${c}`);
      await stopComponent(cfg, c);
    }
    say("stopped.");
    Deno.exit(code);
  };
  Deno.addSignalListener("SIGINT", () => shutdown(0));
  Deno.addSignalListener("SIGTERM", () => shutdown(0));

  await buildBundles("dev", apps, (l) => say(l));
  say(`starting ${apps.join(", ")}…`);
  for (const app of apps) {
    supervisor.start(
      app,
      appEnv(app, ports, infra, {
        ...(collector ? { otlpEndpoint: `http://127.0.0.1:${otlpPort}` } : {}),
        profile: "dev",
        extra: {
          STOCKLET_ADMIN_EMAIL: ADMIN.email,
          STOCKLET_ADMIN_PASSWORD: ADMIN.password,
          // The published dev password is accepted here and in the test stack only.
          STOCKLET_INSECURE_DEV_ADMIN: "true",
          // Off by default, so `deno task bench` (one client address) is never throttled.
          STOCKLET_RATE_LIMIT: RATE_LIMIT,
          STOCKLET_COURIER: COURIER.on ? "on" : "off",
          STOCKLET_COURIER_DISPATCH_MS: COURIER.dispatchMs,
          STOCKLET_COURIER_DELIVER_MS: COURIER.deliverMs,
        },
      }),
    );
  }
  const pending = new Set<AppName>(apps);
  const ok = await waitUntil(async () => {
    for (const app of [...pending]) {
      if (await isReady(app, ports)) {
        pending.delete(app);
        say(`  ${app} ready (${elapsed()})`);
      }
    }
    return pending.size === 0;
  }, { timeoutMs: 120_000, intervalMs: 200 });
  if (!ok) {
    say(`not ready after 120 s: ${[...pending].join(", ")} — see their logs above`);
    await shutdown(1);
    return;
  }

  const edge = apps.includes("edge") ? `http://127.0.0.1:${ports.edge}` : undefined;
  const baseOf = (path: string) => {
    if (edge) return edge;
    const svc = /^\/v1\/([a-z]+)/.exec(path)?.[1] as ServiceName;
    return `http://127.0.0.1:${ports.http[svc]}`;
  };
  say("demo data (admin, demo customer with a credited balance, catalogue with stock)…");
  try {
    const demo = await seedDemo(client(baseOf), ADMIN);
    console.error(
      walkthrough(
        edge ?? baseOf("/v1/order/"),
        demo,
        collector !== undefined,
        edge !== undefined && apps.includes("web"),
        zipkin?.url,
        `http://127.0.0.1:${ports.mailbox}/`,
      ),
    );
    say(`ready in ${elapsed()}`);
  } catch (e) {
    say(`seeding the demo data failed: ${e instanceof Error ? e.message : e}`);
  }
}

if (import.meta.main) await main();
