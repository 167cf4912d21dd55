/**
 * The compose deployment, checked without a container engine: `docker compose config` (or the
 * Debian package `docker-compose`, which `deno task test` installs when missing) validates and
 * normalises compose.yaml (+ compose.override.yaml); then the normalised model is compared with
 * the code. Every environment variable a service (or an init job) reads, found by scanning its
 * module graph, must be set, or excused below with a reason; every variable set must be read by
 * something; every host:port in a value must be a compose service on a shared network that
 * listens there; each service has its database, init job, health check and ports; Envoy's
 * clusters point at the services; the image uses the pinned Deno.
 * @module
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import {
  databaseOwner,
  DEFAULT_PORTS,
  httpUrlVar,
  placementOf,
  SERVICES,
  serviceSpec,
  WEB,
} from "@stocklet/shared/topology";
import {
  APP_NETWORK,
  CONNECT_PLUGIN_PATH,
  CONTAINER_PORTS,
  dbNetworkOf,
  HOSTS,
  initOf,
  JAEGER_TRACE_URL,
  postgresOf,
} from "@stocklet/scripts/gen/compose";
import { bundleOfEntry, IMAGE_BUNDLE_DIR } from "@stocklet/scripts/stack/config";
import { dynamicEnvReadsOf, envReadsOf, localModulesOf } from "@stocklet/scripts/gen/source_scan";
import { envoyPorts, envoyUpstreams } from "@stocklet/scripts/gen/envoy_bootstrap";
import { findComposeTool } from "@stocklet/scripts/compose_tool";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..", "..");
const COMPOSE = join(HERE, "compose.yaml");
const OVERRIDE = join(HERE, "compose.override.yaml");
const INIT_ENTRY = "deploy/docker/service_init.ts";

/** Variables compose sets although no code of ours reads them: Deno's runtime does. */
const RUNTIME_VARS: Record<string, string> = {
  OTEL_DENO: "turns on Deno's built-in OpenTelemetry",
  OTEL_EXPORTER_OTLP_ENDPOINT: "where Deno exports traces, metrics and logs",
  OTEL_EXPORTER_OTLP_PROTOCOL: "how Deno exports them",
  OTEL_METRIC_EXPORT_INTERVAL: "how often Deno exports metrics",
};

/** Variables the code reads that compose leaves unset on purpose, by compose service. */
function notSetOnPurpose(composeService: string): Record<string, string> {
  if (composeService === "user") {
    return {
      STOCKLET_INSECURE_DEV_ADMIN:
        "accepts the published dev admin passwords: the dev and test stacks only, never compose",
    };
  }
  if (!composeService.endsWith("-init")) return {};
  const svc = composeService.slice(0, -"-init".length);
  return {
    STOCKLET_STATE_DIR: "local tooling's state folder (scripts/lib/paths.ts); unused by the job",
    STOCKLET_INFRA_PROFILE: "picks the local infrastructure; the job is given URLs instead",
    STOCKLET_TEST_PORT_SHIFT: "moves the local test stack's ports; the job is given URLs instead",
    ...(databaseOwner(svc).outbox ? {} : {
      KAFKA_BROKERS: `${svc} has no outbox: its init needs no Kafka`,
      KAFKA_CONNECT_URL: `${svc} has no outbox: its init needs no Connect`,
      STOCKLET_TOPIC_PARTITIONS: `${svc} has no outbox: its init creates no topics`,
    }),
  };
}

/** Reads whose variable name is computed, known to be harmless (the scan cannot name them). */
const KNOWN_DYNAMIC_READS = new Set([
  "shared/config.ts: Deno.env.toObject()", // loadConfig's source; its variables are scanned
  "scripts/infra/config.ts: Deno.env.get(name)", // the local infrastructure's port overrides
  "web/config.ts: Deno.env.toObject()", // loadWebConfig's source; its variables are scanned
]);

// ---------------------------------------------------------------------------------------------
// The compose tool.

let composeTool: Promise<string[]> | undefined;

/** The compose CLI (`deno task test` installs one before the tests run; a test installs nothing). */
function compose(): Promise<string[]> {
  return composeTool ??= findComposeTool().then((tool) => {
    if (tool) return tool;
    throw new Error(
      "deploy/docker/compose_test.ts needs `docker compose` or `docker-compose` to validate the " +
        "compose files and found neither: run it through `deno task test` (which installs the " +
        "Debian package docker-compose as root) or install it yourself.",
    );
  });
}

type Yaml = Record<string, unknown>;

/** The admin password the tests give compose (the operator must set one). */
const OPERATOR_ADMIN_PASSWORD = "an-operator-chosen-passphrase";

/** Runs `config` on the files; the variables given are the whole environment (besides PATH). */
async function runConfig(
  files: string[],
  vars: Record<string, string>,
): Promise<{ success: boolean; stdout: string; stderr: string; cmd: string }> {
  const [cmd, ...pre] = await compose();
  const out = await new Deno.Command(cmd!, {
    args: [...pre, "--project-name", "stocklet", ...files.flatMap((f) => ["-f", f]), "config"],
    cwd: HERE,
    stdout: "piped",
    stderr: "piped",
    // Interpolation from a clean environment (and deploy/docker/.env, if a developer made one).
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: Deno.env.get("HOME") ?? "/root",
      ...vars,
    },
  }).output();
  const text = new TextDecoder();
  return {
    success: out.success,
    stdout: text.decode(out.stdout),
    stderr: text.decode(out.stderr),
    cmd: [cmd, ...pre].join(" "),
  };
}

/** Runs `config` on the files (with an operator's admin password) and returns the model. */
async function composeConfig(files: string[]): Promise<Yaml> {
  const out = await runConfig(files, { STOCKLET_ADMIN_PASSWORD: OPERATOR_ADMIN_PASSWORD });
  assert.ok(out.success, `${out.cmd} config rejected ${files.join(" + ")}:\n${out.stderr}`);
  return parse(out.stdout) as Yaml;
}

let configs: Promise<{ base: Yaml; full: Yaml }> | undefined;

function loadConfigs(): Promise<{ base: Yaml; full: Yaml }> {
  return configs ??= (async () => ({
    base: await composeConfig([COMPOSE]),
    full: await composeConfig([COMPOSE, OVERRIDE]),
  }))();
}

// ---------------------------------------------------------------------------------------------
// Reading the normalised model (docker-compose v1 and compose v2 differ in details).

interface Service {
  name: string;
  raw: Yaml;
  env: Record<string, string>;
  networks: string[];
  dependsOn: Record<string, string>;
  command: string[];
  healthcheck: string[] | undefined;
  expose: number[];
  published: Array<{ host: number; container: number }>;
}

function serviceOf(model: Yaml, name: string): Service {
  const raw = (model.services as Record<string, Yaml>)[name];
  assert.ok(raw, `compose has no service ${name}`);
  const env = Object.fromEntries(
    Object.entries((raw.environment ?? {}) as Record<string, unknown>).map((
      [k, v],
    ) => [k, v === null || v === undefined ? "" : String(v)]),
  );
  const networks = Array.isArray(raw.networks)
    ? raw.networks as string[]
    : Object.keys((raw.networks ?? {}) as Yaml);
  const dependsOn = Object.fromEntries(
    Object.entries((raw.depends_on ?? {}) as Record<string, { condition?: string }>).map((
      [k, v],
    ) => [k, v?.condition ?? "service_started"]),
  );
  const hc = raw.healthcheck as { test?: string[] | string; disable?: boolean } | undefined;
  const healthcheck = hc && !hc.disable && hc.test
    ? (Array.isArray(hc.test) ? hc.test : ["CMD-SHELL", hc.test])
    : undefined;
  const published = ((raw.ports ?? []) as Array<string | Yaml>).map((p) => {
    if (typeof p === "string") {
      const [h, c] = p.split(":").slice(-2);
      return { host: Number(h), container: Number(c) };
    }
    return { host: Number(p.published), container: Number(p.target) };
  });
  return {
    name,
    raw,
    env,
    networks,
    dependsOn,
    command: ((raw.command ?? []) as string[]).map(String),
    healthcheck,
    expose: ((raw.expose ?? []) as unknown[]).map(Number),
    published,
  };
}

function serviceNames(model: Yaml): string[] {
  return Object.keys(model.services as Yaml);
}

function parseProps(text: string): Record<string, string> {
  return Object.fromEntries(
    text.split("\n").map((l) => /^([^#=\s][^=]*)=(.*)$/.exec(l)).filter((m) => m !== null)
      .map((m) => [m![1]!.trim(), m![2]!]),
  );
}

function portOf(endpoint: string): number {
  return Number(/:(\d+)\s*$/.exec(endpoint)?.[1]);
}

/** The ports each compose service listens on in its container. */
async function listeningPorts(model: Yaml): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  const worker = parseProps(await Deno.readTextFile(join(HERE, "connect", "worker.properties")));
  const otel = parse(await Deno.readTextFile(join(HERE, "otel-collector.yaml"))) as {
    receivers: { otlp: { protocols: Record<string, { endpoint: string }> } };
    exporters: { prometheus: { endpoint: string } };
  };
  for (const name of serviceNames(model)) {
    const s = serviceOf(model, name);
    if (SERVICES.some((x) => x.name === name)) {
      out.set(name, [Number(s.env.HTTP_PORT), Number(s.env.GRPC_PORT)]);
    } else if (name === WEB.name) out.set(name, [Number(s.env.HTTP_PORT)]);
    else if (name.endsWith("-postgres")) out.set(name, [CONTAINER_PORTS.postgres]);
    else if (name === HOSTS.kafka) {
      out.set(name, (s.env.KAFKA_LISTENERS ?? "").split(",").map(portOf));
    } else if (name === HOSTS.connect) out.set(name, [portOf(worker.listeners ?? "")]);
    else if (name === HOSTS.otelCollector) {
      out.set(name, [
        ...Object.values(otel.receivers.otlp.protocols).map((p) => portOf(p.endpoint)),
        portOf(otel.exporters.prometheus.endpoint),
      ]);
    } else if (name === HOSTS.prometheus) out.set(name, [CONTAINER_PORTS.prometheus]);
    else if (name === HOSTS.grafana) out.set(name, [CONTAINER_PORTS.grafana]);
    else if (name === HOSTS.jaeger) out.set(name, [4317, 4318, CONTAINER_PORTS.jaegerUi]);
    else if (name === HOSTS.mailpit) {
      out.set(name, [CONTAINER_PORTS.mailpitSmtp, CONTAINER_PORTS.mailpitUi]);
    } else if (name === HOSTS.envoy) {
      const envoy = await Deno.readTextFile(join(ROOT, "deploy", "envoy", "envoy.yaml"));
      out.set(name, [envoyPorts(envoy).listener]);
    } else out.set(name, [8080]); // the web tools of the override
  }
  return out;
}

/** host:port references in an environment value (URLs and `host:port` items of a list). */
function referencesIn(value: string): Array<{ host: string; port: number }> {
  const refs: Array<{ host: string; port: number }> = [];
  const defaults: Record<string, number> = { "http:": 80, "https:": 443, "postgres:": 5432 };
  for (const item of value.split(",").map((s) => s.trim())) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(item)) {
      let u: URL;
      try {
        u = new URL(item);
      } catch {
        continue;
      }
      if (!u.hostname) continue;
      const port = u.port ? Number(u.port) : defaults[u.protocol.toLowerCase()];
      if (port) refs.push({ host: u.hostname, port });
    } else {
      const m = /^([A-Za-z0-9][A-Za-z0-9.-]*):(\d+)$/.exec(item);
      if (m) refs.push({ host: m[1]!, port: Number(m[2]) });
    }
  }
  return refs;
}

/** Problems with a reference from one compose service to host:port. */
function referenceProblems(
  model: Yaml,
  listening: Map<string, number[]>,
  from: string,
  what: string,
  ref: { host: string; port: number },
): string[] {
  if (ref.host === "0.0.0.0") return [];
  // A link the web front gives browsers (Jaeger on the host), not an address it calls.
  if (from === WEB.name && what === "STOCKLET_TRACE_URL") return [];
  if (ref.host === "localhost" || ref.host.startsWith("127.")) {
    return [`${from}: ${what} points at ${ref.host}, which is the container itself`];
  }
  if (!serviceNames(model).includes(ref.host)) {
    return [`${from}: ${what} names ${ref.host}:${ref.port}, which is no compose service`];
  }
  const problems: string[] = [];
  const a = serviceOf(model, from).networks;
  const b = serviceOf(model, ref.host).networks;
  if (from !== ref.host && !a.some((n) => b.includes(n))) {
    problems.push(`${from}: ${what} names ${ref.host}, which shares no network with it`);
  }
  if (!(listening.get(ref.host) ?? []).includes(ref.port)) {
    problems.push(
      `${from}: ${what} names ${ref.host}:${ref.port}, but ${ref.host} listens on ${
        listening.get(ref.host)?.join(", ")
      }`,
    );
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------

Deno.test("compose: compose.yaml alone and with compose.override.yaml pass `config`", async () => {
  const { base, full } = await loadConfigs();
  const expected = [
    HOSTS.kafka,
    HOSTS.connect,
    HOSTS.otelCollector,
    HOSTS.jaeger,
    HOSTS.prometheus,
    HOSTS.grafana,
    HOSTS.envoy,
    HOSTS.mailpit,
    ...SERVICES.flatMap((s) => [s.name, postgresOf(s.name), initOf(s.name)]),
    WEB.name,
    postgresOf(WEB.name),
    initOf(WEB.name),
  ];
  assert.deepEqual(serviceNames(base).sort(), [...expected].sort());
  assert.deepEqual(
    serviceNames(full).sort(),
    [...expected, HOSTS.kafkaUi, HOSTS.adminer].sort(),
  );
});

Deno.test("compose: refuses to start without an operator's admin password (issue 13 #7)", async () => {
  const without = await runConfig([COMPOSE], {});
  assert.equal(without.success, false, "compose accepted a deployment without an admin password");
  assert.match(without.stderr, /STOCKLET_ADMIN_PASSWORD/);
  const { base } = await loadConfigs();
  const env = serviceOf(base, "user").env;
  assert.equal(env.STOCKLET_ADMIN_PASSWORD, OPERATOR_ADMIN_PASSWORD, "passed through unchanged");
  assert.equal(env.STOCKLET_INSECURE_DEV_ADMIN, undefined, "the dev escape is never set");
  // No service falls back to a password of the repository's.
  const text = await Deno.readTextFile(new URL("./compose.yaml", import.meta.url));
  for (const published of ["stocklet-admin", "test-admin-password", "stocklet-demo"]) {
    assert.ok(!text.includes(published), `compose.yaml mentions ${published}`);
  }
});

Deno.test("compose: Envoy's rate limits are on unless the operator turns them off", async () => {
  const { base } = await loadConfigs();
  const envoy = (base.services as Yaml)[HOSTS.envoy] as { command: string[] };
  const layer = envoy.command[envoy.command.indexOf("--config-yaml") + 1]!;
  assert.match(layer, /static_layer: \{edge\.rate_limit\.enabled: 100\}/);
  const off = await runConfig([COMPOSE], {
    STOCKLET_ADMIN_PASSWORD: OPERATOR_ADMIN_PASSWORD,
    STOCKLET_RATE_LIMIT_PERCENT: "0",
  });
  assert.ok(off.success, off.stderr);
  const offEnvoy = ((parse(off.stdout) as Yaml).services as Yaml)[HOSTS.envoy] as {
    command: string[];
  };
  assert.match(offEnvoy.command.join(" "), /static_layer: \{edge\.rate_limit\.enabled: 0\}/);
});

Deno.test("compose: every environment variable the code reads is set, and nothing else", async () => {
  const { full } = await loadConfigs();
  const problems: string[] = [];
  const excusesUsed = new Set<string>();
  const targets = [
    ...SERVICES.flatMap((s) => [
      { compose: s.name, entry: `services/${s.name}/main.ts` },
      { compose: initOf(s.name), entry: INIT_ENTRY },
    ]),
    { compose: WEB.name, entry: "web/main.ts" },
    { compose: initOf(WEB.name), entry: INIT_ENTRY },
  ];
  const graphs = new Map<string, string[]>();
  for (const t of targets) {
    const files = graphs.get(t.entry) ?? await localModulesOf(t.entry, ROOT);
    graphs.set(t.entry, files);
    const reads = await envReadsOf(files, ROOT);
    assert.ok(reads.has("DATABASE_URL"), `the scan found no variables in ${t.entry}'s modules`);
    if (t.compose === WEB.name) {
      // The web front reads every service's URL through serviceUrlSpec() (httpUrlVar(name)),
      // which the scan cannot name: count them as read, as long as it still does so.
      const web = await Deno.readTextFile(join(ROOT, "web", "config.ts"));
      const kit = await Deno.readTextFile(join(ROOT, "shared", "config.ts"));
      assert.match(web, /serviceUrlSpec\(\)/, "web/config.ts reads the services' URLs");
      assert.match(kit, /url\(httpUrlVar\(s\.name\)/, "serviceUrlSpec() reads <SVC>_HTTP_URL");
      for (const s of SERVICES) reads.set(httpUrlVar(s.name), ["shared/config.ts"]);
    }
    const set = serviceOf(full, t.compose).env;
    const excused = notSetOnPurpose(t.compose);
    for (const [name, readers] of reads) {
      if (name in set) continue;
      if (name in excused) {
        excusesUsed.add(`${t.compose}:${name}`);
        continue;
      }
      problems.push(`${t.compose}: ${name} (read in ${readers.join(", ")}) is not set`);
    }
    for (const name of Object.keys(set)) {
      if (!reads.has(name) && !(name in RUNTIME_VARS)) {
        problems.push(`${t.compose}: sets ${name}, which nothing in ${t.entry}'s modules reads`);
      }
    }
    for (const name of Object.keys(excused)) {
      if (!reads.has(name)) {
        problems.push(`${t.compose}: ${name} is excused but no longer read: drop the excuse`);
      }
    }
    for (const d of await dynamicEnvReadsOf(files, ROOT)) {
      if (!KNOWN_DYNAMIC_READS.has(d)) {
        problems.push(`${t.entry}: ${d} reads a variable the scan cannot name`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

Deno.test("compose: the services get container addresses, the topology's ports and tracing", async () => {
  const { full } = await loadConfigs();
  for (const spec of SERVICES) {
    const s = serviceOf(full, spec.name);
    assert.equal(s.env.BIND_HOST, "0.0.0.0", spec.name);
    assert.equal(Number(s.env.HTTP_PORT), spec.httpPort, spec.name);
    assert.equal(Number(s.env.GRPC_PORT), spec.grpcPort, spec.name);
    assert.equal(s.env.OTEL_SERVICE_NAME, spec.name);
    assert.equal(s.env.OTEL_DENO, "true");
    assert.equal(
      s.env.OTEL_EXPORTER_OTLP_ENDPOINT,
      `http://${HOSTS.otelCollector}:${CONTAINER_PORTS.otlpHttp}`,
    );
    // The service connects as its own role to its own database (the isolated layout); its init
    // job, as the administrator, made that role with the password the service is given.
    const place = placementOf(spec.name, "isolated");
    const db = new URL(s.env.DATABASE_URL!);
    assert.equal(db.hostname, postgresOf(spec.name));
    assert.equal(db.pathname, `/${place.database}`);
    assert.equal(decodeURIComponent(db.username), place.role);
    assert.equal(s.env.STOCKLET_DB_LAYOUT, "isolated");
    const pg = serviceOf(full, postgresOf(spec.name)).env;
    assert.equal(pg.POSTGRES_DB, place.database);
    const init = serviceOf(full, initOf(spec.name)).env;
    const adminDb = new URL(init.DATABASE_URL!);
    assert.equal(decodeURIComponent(adminDb.username), pg.POSTGRES_USER);
    assert.equal(decodeURIComponent(adminDb.password), pg.POSTGRES_PASSWORD);
    assert.equal(init.STOCKLET_SERVICE_DB_PASSWORD, decodeURIComponent(db.password));
    assert.equal(s.env.AUTH_JWKS_URL, `http://auth:${serviceSpec("auth").httpPort}/v1/auth/jwks`);
    if (spec.name === "auth") {
      assert.equal(s.env.USER_GRPC_ADDR, `user:${serviceSpec("user").grpcPort}`);
    }
  }
});

Deno.test("compose: the web front gets the services' addresses, its database and a trace link", async () => {
  const { base, full } = await loadConfigs();
  const web = serviceOf(full, WEB.name);
  assert.equal(web.env.BIND_HOST, "0.0.0.0");
  assert.equal(Number(web.env.HTTP_PORT), WEB.httpPort);
  assert.equal(web.env.OTEL_SERVICE_NAME, WEB.name);
  for (const s of SERVICES) {
    assert.equal(web.env[httpUrlVar(s.name)], `http://${s.name}:${s.httpPort}`, s.name);
  }
  assert.equal(new URL(web.env.DATABASE_URL!).hostname, postgresOf(WEB.name));
  assert.equal(
    new URL(web.env.DATABASE_URL!).pathname,
    `/${placementOf(WEB.name, "isolated").database}`,
  );
  assert.equal(web.env.STOCKLET_TRACE_URL, JAEGER_TRACE_URL);
  assert.ok(JAEGER_TRACE_URL.includes("{order_id}"));
  assert.ok(web.command.includes(bundleOfEntry("web/main.ts", IMAGE_BUNDLE_DIR)));
  assert.equal(web.dependsOn[initOf(WEB.name)], "service_completed_successfully");
  assert.equal(web.dependsOn[HOSTS.kafka], "service_healthy");
  assert.ok(web.healthcheck?.some((x) => x.includes(`:${WEB.httpPort}/readyz`)));
  assert.deepEqual(web.networks.sort(), [APP_NETWORK, dbNetworkOf(WEB.name)].sort());
  const init = serviceOf(base, initOf(WEB.name));
  assert.equal(init.env.SERVICE, WEB.name);
  assert.deepEqual(init.networks, [dbNetworkOf(WEB.name)], "its init needs only its database");
  assert.equal(serviceOf(base, HOSTS.envoy).dependsOn[WEB.name], "service_healthy");
  assert.deepEqual(web.published, [{ host: WEB.httpPort, container: WEB.httpPort }]);
});

Deno.test("compose: every host:port in an environment value is a reachable compose service", async () => {
  const { full } = await loadConfigs();
  const listening = await listeningPorts(full);
  const problems: string[] = [];
  let checked = 0;
  for (const name of serviceNames(full)) {
    for (const [key, value] of Object.entries(serviceOf(full, name).env)) {
      for (const ref of referencesIn(value)) {
        checked++;
        problems.push(...referenceProblems(full, listening, name, key, ref));
      }
    }
  }
  assert.deepEqual(problems, []);
  assert.ok(checked >= 5 * SERVICES.length, `only ${checked} references found`);
});

Deno.test("compose: each service has its database, init job, health check and ports", async () => {
  const { base, full } = await loadConfigs();
  const networks = base.networks as Record<string, { internal?: boolean } | null>;
  for (const spec of SERVICES) {
    const pg = serviceOf(base, postgresOf(spec.name));
    assert.match(String(pg.raw.image), /^postgres:16-bookworm$/);
    assert.ok(pg.command.includes("wal_level=logical"), `${pg.name} needs wal_level=logical`);
    assert.equal(pg.healthcheck?.includes("pg_isready"), true, `${pg.name}: pg_isready check`);
    assert.deepEqual(pg.networks, [dbNetworkOf(spec.name)], `${pg.name} sits on its own network`);
    assert.equal(networks[dbNetworkOf(spec.name)]?.internal, true);

    const init = serviceOf(base, initOf(spec.name));
    assert.equal(init.env.SERVICE, spec.name);
    assert.ok(init.command.includes(INIT_ENTRY), `${init.name} runs ${INIT_ENTRY}`);
    assert.equal(init.dependsOn[postgresOf(spec.name)], "service_healthy");
    assert.equal(String(init.raw.restart ?? "no"), "no");
    if (spec.outbox) {
      assert.equal(init.dependsOn[HOSTS.kafka], "service_healthy", init.name);
      assert.equal(init.dependsOn[HOSTS.connect], "service_healthy", init.name);
      assert.ok(serviceOf(base, HOSTS.connect).networks.includes(dbNetworkOf(spec.name)));
    }

    const s = serviceOf(base, spec.name);
    assert.ok(
      s.command.includes(bundleOfEntry(`services/${spec.name}/main.ts`, IMAGE_BUNDLE_DIR)),
      `${spec.name}: its main.ts, bundled`,
    );
    await Deno.stat(join(ROOT, "services", spec.name, "main.ts"));
    assert.equal(s.dependsOn[initOf(spec.name)], "service_completed_successfully");
    assert.equal(s.dependsOn[postgresOf(spec.name)], "service_healthy");
    assert.ok(
      s.healthcheck?.some((x) => x.includes(`:${spec.httpPort}/readyz`)),
      `${spec.name}: a health check on :${spec.httpPort}/readyz`,
    );
    assert.deepEqual([...s.expose].sort(), [spec.httpPort, spec.grpcPort].sort());
    assert.deepEqual(s.networks.sort(), [APP_NETWORK, dbNetworkOf(spec.name)].sort());
    assert.deepEqual(
      serviceOf(full, spec.name).published.sort((a, b) => a.host - b.host),
      [spec.httpPort, spec.grpcPort].map((p) => ({ host: p, container: p })),
      `${spec.name}: the override publishes its ports as the local stack has them`,
    );
  }
  for (const infra of [HOSTS.kafka, HOSTS.connect]) {
    assert.ok(serviceOf(base, infra).healthcheck, `${infra} needs a health check`);
  }
  assert.match(String(serviceOf(base, HOSTS.kafka).raw.image), /^apache\/kafka:3\.9\./);
  assert.equal(serviceOf(base, HOSTS.kafka).env.KAFKA_PROCESS_ROLES, "broker,controller");
  assert.ok(
    serviceOf(base, HOSTS.connect).healthcheck?.some((x) => x.endsWith("/connectors")),
    "Connect's health check is GET /connectors",
  );
  const adminer = serviceOf(full, HOSTS.adminer);
  for (const spec of SERVICES) assert.ok(adminer.networks.includes(dbNetworkOf(spec.name)));
});

Deno.test("compose: Envoy's clusters are the compose services on their HTTP ports", async () => {
  const { full } = await loadConfigs();
  const listening = await listeningPorts(full);
  const envoySvc = serviceOf(full, HOSTS.envoy);
  assert.ok(
    (envoySvc.raw.volumes as unknown[]).some((v) =>
      JSON.stringify(v).includes("deploy/envoy/envoy.yaml") ||
      JSON.stringify(v).includes("../envoy/envoy.yaml")
    ),
    "Envoy mounts deploy/envoy/envoy.yaml",
  );
  assert.deepEqual(envoySvc.published.map((p) => p.container), [CONTAINER_PORTS.edge]);
  const problems: string[] = [];
  const clusters = new Map<string, { host: string; port: number }[]>();
  const envoyText = await Deno.readTextFile(join(ROOT, "deploy", "envoy", "envoy.yaml"));
  for (const { cluster, host, port } of envoyUpstreams(envoyText)) {
    clusters.set(cluster, [...clusters.get(cluster) ?? [], { host, port }]);
    problems.push(
      ...referenceProblems(full, listening, HOSTS.envoy, `cluster ${cluster}`, { host, port }),
    );
  }
  for (const spec of [...SERVICES, WEB]) {
    assert.deepEqual(
      clusters.get(spec.name),
      [{ host: spec.name, port: Number(serviceOf(full, spec.name).env.HTTP_PORT) }],
      `Envoy's cluster ${spec.name}`,
    );
  }
  // The JWKS Envoy fetches.
  const jwks = /uri: (http:\/\/\S+)/.exec(envoyText)?.[1];
  assert.ok(jwks, "Envoy fetches a JWKS");
  for (const ref of referencesIn(jwks)) {
    problems.push(...referenceProblems(full, listening, HOSTS.envoy, "the JWKS uri", ref));
  }
  assert.deepEqual(problems, []);
});

Deno.test("compose: the collector takes OTLP where the services and Envoy send it", async () => {
  const { full } = await loadConfigs();
  const otel = parse(await Deno.readTextFile(join(HERE, "otel-collector.yaml"))) as {
    receivers: { otlp: { protocols: { grpc: { endpoint: string }; http: { endpoint: string } } } };
    exporters: Record<string, { endpoint?: string }>;
    service: { pipelines: { traces: { exporters: string[] } } };
  };
  assert.equal(portOf(otel.receivers.otlp.protocols.http.endpoint), CONTAINER_PORTS.otlpHttp);
  assert.equal(portOf(otel.receivers.otlp.protocols.grpc.endpoint), CONTAINER_PORTS.otlpGrpc);
  const collector = serviceOf(full, HOSTS.otelCollector);
  assert.ok(JSON.stringify(collector.raw.volumes).includes("otel-collector.yaml"));
  const listening = await listeningPorts(full);
  const problems: string[] = [];
  for (const name of otel.service.pipelines.traces.exporters) {
    const endpoint = otel.exporters[name]?.endpoint ?? "";
    const [host, port] = endpoint.split(":");
    problems.push(
      ...referenceProblems(full, listening, HOSTS.otelCollector, `exporter ${name}`, {
        host: host!,
        port: Number(port),
      }),
    );
  }
  assert.deepEqual(problems, []);
  assert.ok(
    serviceOf(full, HOSTS.jaeger).published.some((p) => p.container === CONTAINER_PORTS.jaegerUi),
  );
});

Deno.test("compose: Prometheus scrapes the collector's metrics and loads the alerts; Grafana shows them", async () => {
  const { full } = await loadConfigs();
  const listening = await listeningPorts(full);
  const otel = parse(await Deno.readTextFile(join(HERE, "otel-collector.yaml"))) as {
    exporters: { prometheus: { endpoint: string } };
    service: { pipelines: { metrics: { exporters: string[] } } };
  };
  assert.deepEqual(otel.service.pipelines.metrics.exporters, ["prometheus"]);
  assert.equal(portOf(otel.exporters.prometheus.endpoint), CONTAINER_PORTS.collectorMetrics);

  const prom = serviceOf(full, HOSTS.prometheus);
  const mounts = (svc: Service) =>
    ((svc.raw.volumes ?? []) as Array<string | { source?: string; target?: string }>).map((v) =>
      typeof v === "string"
        ? { source: v.split(":")[0]!, target: v.split(":")[1]! }
        : { source: v.source ?? "", target: v.target ?? "" }
    );
  const mountOf = (svc: Service, target: string) => {
    const m = mounts(svc).find((x) => x.target === target);
    assert.ok(m, `${svc.name} mounts something at ${target}`);
    // Bind mounts come back absolute from `config`; named volumes stay names.
    return m.source.startsWith("/") ? m.source : join(HERE, m.source);
  };
  const config = parse(
    await Deno.readTextFile(mountOf(prom, "/etc/prometheus/prometheus.yml")),
  ) as {
    rule_files: string[];
    scrape_configs: Array<{ static_configs: Array<{ targets: string[] }> }>;
  };
  const problems: string[] = [];
  for (
    const target of config.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets))
  ) {
    const [host, port] = target.split(":");
    problems.push(
      ...referenceProblems(full, listening, HOSTS.prometheus, `scrape target ${target}`, {
        host: host!,
        port: Number(port),
      }),
    );
  }
  assert.deepEqual(problems, []);
  for (const rules of config.rule_files) {
    const source = mountOf(prom, rules);
    assert.equal(
      await Deno.readTextFile(source),
      await Deno.readTextFile(join(ROOT, "deploy", "prometheus", "alerts.yaml")),
    );
  }

  const grafana = serviceOf(full, HOSTS.grafana);
  const provisioning = mountOf(grafana, "/etc/grafana/provisioning");
  const dashboards = mountOf(grafana, "/var/lib/grafana/dashboards");
  assert.ok((await Deno.stat(join(provisioning, "datasources", "prometheus.yaml"))).isFile);
  const files = [...Deno.readDirSync(dashboards)].map((e) => e.name).sort();
  assert.deepEqual(files, ["consumers.json", "saga.json", "services.json"]);
  const home = grafana.env.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH ?? "";
  assert.ok(files.includes(home.split("/").pop()!), `the home dashboard ${home} is mounted`);
  // The datasource URL is Prometheus where it listens.
  const ds = parse(
    await Deno.readTextFile(join(provisioning, "datasources", "prometheus.yaml")),
  ) as {
    datasources: Array<{ url: string }>;
  };
  const u = new URL(ds.datasources[0]!.url);
  assert.deepEqual(
    referenceProblems(full, listening, HOSTS.grafana, "datasource", {
      host: u.hostname,
      port: Number(u.port),
    }),
    [],
  );
  for (
    const [svc, port] of [[prom, CONTAINER_PORTS.prometheus], [
      grafana,
      CONTAINER_PORTS.grafana,
    ]] as const
  ) {
    assert.ok(
      svc.published.some((p) => p.container === port),
      `${svc.name} is reachable on :${port}`,
    );
  }
});

Deno.test("compose: the images are built with the pinned Deno, all manifests and the plugins", async () => {
  const dockerfile = await Deno.readTextFile(join(HERE, "Dockerfile"));
  assert.equal(/^ARG DENO_VERSION=(\S+)$/m.exec(dockerfile)?.[1], Deno.version.deno);
  assert.match(dockerfile, /^FROM denoland\/deno:\$\{DENO_VERSION\}$/m);
  const root = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json"))) as {
    workspace: string[];
  };
  for (const member of root.workspace) {
    const dir = member.replace(/^\.\//, "").replace(/\/$/, "");
    assert.match(
      dockerfile,
      new RegExp(`^COPY .*\\s${dir}/deno\\.json ${dir}/$`, "m"),
      `the Dockerfile copies ${dir}/deno.json before \`deno install\``,
    );
  }
  assert.match(dockerfile, /deno install --frozen/);
  assert.match(
    dockerfile,
    /deno cache --frozen services\/\*\/main\.ts web\/main\.ts deploy\/docker\/service_init\.ts/,
  );
  // The apps run from their bundles (compose's and Kubernetes' commands), built into the image.
  assert.match(
    dockerfile,
    new RegExp(
      `^RUN deno run -A --cached-only scripts/stack/bundle\\.ts ${IMAGE_BUNDLE_DIR}$`,
      "m",
    ),
  );
  assert.match(dockerfile, /scripts\/stack\/bundle\.ts$/m, "the bundler is cached with the rest");
  const ignored = await Deno.readTextFile(join(HERE, "Dockerfile.dockerignore"));
  assert.match(ignored, new RegExp(`^${IMAGE_BUNDLE_DIR}$`, "m"), "a local build stays out");

  const connect = await Deno.readTextFile(join(HERE, "connect", "Dockerfile"));
  const worker = parseProps(await Deno.readTextFile(join(HERE, "connect", "worker.properties")));
  assert.equal(worker["plugin.path"], CONNECT_PLUGIN_PATH);
  assert.match(connect, new RegExp(`COPY --from=\\S+ /jars/plugins/ ${CONNECT_PLUGIN_PATH}/`));
  assert.match(connect, /^FROM apache\/kafka:3\.9\.\d+$/m);
  assert.match(connect, /COPY docker\/connect\/worker\.properties /);
  assert.equal(worker["bootstrap.servers"], `${HOSTS.kafka}:${CONTAINER_PORTS.kafka}`);
  assert.equal(DEFAULT_PORTS.otlp, CONTAINER_PORTS.otlpHttp);
});
