/**
 * `deno task dev`: the whole system on this machine, one command. Infrastructure up → service-init
 * for all seven services → the seven services and the edge (supervised: coloured logs, a crashed
 * process is reported and restarted with backoff) → demo data through the public API → the URLs,
 * credentials and a five-step walkthrough. Spans go to a built-in OTLP collector, so
 * `deno task trace <order_id>` shows an order's saga. Ctrl-C stops everything this run started.
 */
import { DATABASE_OWNERS, DEFAULT_PORTS, type ServiceName } from "@stocklet/shared/topology";
import { type Component, infraConfig, infraUp, stopComponent } from "./infra/mod.ts";
import { portOpen, waitUntil } from "./infra/process.ts";
import { initServices } from "./service_init/mod.ts";
import { isReady } from "./stack/apps.ts";
import { appEnv, type AppName, httpPortOf, stackPorts } from "./stack/config.ts";
import { stackApps } from "./stack/test_stack.ts";
import { startTraceCollector, type TraceCollector } from "./trace/collector.ts";
import { client, type DemoData, seedDemo } from "./dev/seed.ts";
import { Supervisor } from "./dev/supervisor.ts";

const BOLD = "\x1b[1m";
const DIM = "\x1b[2m";
const RESET = "\x1b[0m";
const say = (line: string) => console.error(`${BOLD}dev${RESET}       │ ${line}`);

/** The admin account the user service creates at start-up. */
const ADMIN = {
  email: Deno.env.get("STOCKLET_ADMIN_EMAIL") ?? "admin@stocklet.local",
  password: Deno.env.get("STOCKLET_ADMIN_PASSWORD") ?? "stocklet-admin",
};

/** The edge's rate limits in dev: off unless asked for (`STOCKLET_RATE_LIMIT=on`). */
const RATE_LIMIT = Deno.env.get("STOCKLET_RATE_LIMIT") ?? "off";

function walkthrough(
  edge: string,
  demo: DemoData,
  tracing: boolean,
  storefront: boolean,
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
    tracing ? `  Then: deno task trace <order_id>` : "",
    "",
    `${DIM}Ctrl-C stops everything.${RESET}`,
    "",
  ].join("\n");
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
  const cfg = infraConfig("dev");
  const ports = stackPorts("dev");
  const apps = await stackApps();

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

  const otlpPort = Number(Deno.env.get("STOCKLET_OTLP_PORT") ?? DEFAULT_PORTS.otlp);
  let collector: TraceCollector | undefined;
  if (Deno.env.get("STOCKLET_TRACING") !== "off") {
    try {
      collector = await startTraceCollector(otlpPort, infra.pgUrl("postgres"));
      say(`trace collector on :${otlpPort} (OTLP/HTTP JSON → Postgres database "traces")`);
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
    for (const c of [...infra.started].reverse() as Component[]) {
      say(`  stopping ${c}`);
      await stopComponent(cfg, c);
    }
    say("stopped.");
    Deno.exit(code);
  };
  Deno.addSignalListener("SIGINT", () => shutdown(0));
  Deno.addSignalListener("SIGTERM", () => shutdown(0));

  say(`starting ${apps.join(", ")}…`);
  for (const app of apps) {
    supervisor.start(
      app,
      appEnv(app, ports, infra, {
        ...(collector ? { otlpEndpoint: `http://127.0.0.1:${otlpPort}` } : {}),
        extra: {
          STOCKLET_ADMIN_EMAIL: ADMIN.email,
          STOCKLET_ADMIN_PASSWORD: ADMIN.password,
          // The published dev password is accepted here and in the test stack only.
          STOCKLET_INSECURE_DEV_ADMIN: "true",
          // Off by default, so `deno task bench` (one client address) is never throttled.
          STOCKLET_RATE_LIMIT: RATE_LIMIT,
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
      ),
    );
    say(`ready in ${elapsed()}`);
  } catch (e) {
    say(`seeding the demo data failed: ${e instanceof Error ? e.message : e}`);
  }
}

if (import.meta.main) await main();
