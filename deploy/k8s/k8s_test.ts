/**
 * The Kubernetes deployment, checked offline: every overlay renders with kustomize and every
 * object validates strictly with kubeconform (Kubernetes' own schemas, the operators' CRD
 * schemas); then the rendered objects are compared with the code — the environment each program
 * reads, the Secrets, the flows the NetworkPolicies must allow and stop, the topics, connectors
 * and databases the topology implies, probes and graceful shutdown, Envoy's configuration.
 * @module
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { TOPICS } from "@stocklet/shared/topics";
import { serviceUrlSpec } from "@stocklet/shared/config";
import {
  callsOf,
  callVariableOf,
  consumerGroupOf,
  DATABASE_OWNERS,
  databaseOwner,
  type DbLayout,
  deadLetterTopicOf,
  httpUrlVar,
  placementOf,
  RELAY_HEARTBEAT_TOPIC,
  relayOf,
  relaysOf,
  SERVICES,
  serviceSpec,
  WEB,
} from "@stocklet/shared/topology";
import {
  dynamicEnvReadsOf,
  envReadsOf,
  localModulesOf,
  subscriptionsOf,
} from "@stocklet/scripts/gen/source_scan";
import { relayConnectorConfig } from "@stocklet/scripts/service_init";
import { envoyUpstreams } from "@stocklet/scripts/gen/envoy_bootstrap";
import { connectorDatabase, debeziumVersion } from "@stocklet/scripts/gen/k8s/kafka";
import {
  CNPG_OPERATOR_NAMESPACE,
  COLLECTOR,
  COLLECTOR_PORTS,
  COMPONENT,
  CONNECT_CLUSTER,
  DATABASE_LAYOUTS,
  DB_PASSWORD,
  EDGE,
  initJobOf,
  KAFKA_CLUSTER,
  NAMESPACE,
  PROMETHEUS_PODS,
  RELAY_REPAIR_ACCOUNT,
  relayClusterOf,
  repairJobOf,
  SECRETS,
  SMTP_PORTS,
  STRIMZI_PODS,
  superuserSecretOf,
} from "@stocklet/scripts/gen/k8s/names";
import { KUBERNETES_API_PORTS, OUTSIDE_EGRESS } from "@stocklet/scripts/gen/k8s/network";
import { RELAY_INIT_ENTRY } from "@stocklet/scripts/gen/k8s/postgres";
import { SHUTDOWN } from "@stocklet/scripts/gen/k8s/profiles";
import { INIT_ENTRY, WAIT_ENTRY } from "@stocklet/scripts/gen/k8s/workloads";
import { APP_V8_FLAGS, bundleOfEntry, IMAGE_BUNDLE_DIR } from "@stocklet/scripts/stack/config";
import { type Endpoint, NetworkModel, OUTSIDE, pod } from "./network_model.ts";
import {
  type K8sObject,
  kubeconform,
  KUBERNETES_VERSIONS,
  kustomizeBuild,
  kustomizeYaml,
} from "./validate.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
/** What the web front's Deployment runs. */
const WEB_ENTRY = "web/main.ts";
const ROOT = join(HERE, "..", "..");

type Json = Record<string, unknown>;

/** Every overlay under deploy/k8s/overlays. */
async function overlays(): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(join(HERE, "overlays"))) if (e.isDirectory) out.push(e.name);
  return out.sort();
}

const renders = new Map<string, Promise<K8sObject[]>>();

/** The objects of a kustomization folder (relative to deploy/k8s), rendered once. */
function rendered(dir: string): Promise<K8sObject[]> {
  let p = renders.get(dir);
  if (!p) renders.set(dir, p = kustomizeBuild(join(HERE, dir)));
  return p;
}

function find(objects: readonly K8sObject[], kind: string, name: string): K8sObject {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(o, `no ${kind}/${name}`);
  return o;
}

function all(objects: readonly K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}

/** The pod template of a workload (a CronJob's is its Job template's). */
function podTemplate(o: K8sObject): { metadata: { labels: Record<string, string> }; spec: Json } {
  const spec = o.kind === "CronJob"
    ? ((o.spec as Json).jobTemplate as Json).spec as Json
    : o.spec as Json;
  return spec.template as { metadata: { labels: Record<string, string> }; spec: Json };
}

function podSpec(o: K8sObject): Json {
  return podTemplate(o).spec;
}

interface Container {
  name: string;
  env?: Array<{ name: string; value?: string; valueFrom?: Json }>;
  envFrom?: Array<{ configMapRef?: { name: string } }>;
  ports?: Array<{ name: string; containerPort: number }>;
  [key: string]: unknown;
}

function containers(o: K8sObject, init = false): Container[] {
  return (podSpec(o)[init ? "initContainers" : "containers"] ?? []) as Container[];
}

/** A container's environment as Kubernetes resolves it: ConfigMaps first, then env, $(VAR)s. */
function environment(objects: readonly K8sObject[], c: Container): Map<string, string> {
  const env = new Map<string, string>();
  for (const from of c.envFrom ?? []) {
    const cm = find(objects, "ConfigMap", from.configMapRef!.name);
    for (const [k, v] of Object.entries((cm.data ?? {}) as Record<string, string>)) env.set(k, v);
  }
  for (const e of c.env ?? []) {
    const value = e.value ?? (e.valueFrom ? `<${JSON.stringify(e.valueFrom)}>` : "");
    env.set(e.name, value.replaceAll(/\$\(([A-Z_][A-Z0-9_]*)\)/g, (m, n) => env.get(n) ?? m));
  }
  return env;
}

/** The settings every program reads (the `stocklet-config` ConfigMap, name hashed). */
function settings(objects: readonly K8sObject[]): Record<string, string> {
  const cm = all(objects, "ConfigMap").find((c) => c.metadata.name.startsWith("stocklet-config"));
  assert.ok(cm, "no stocklet-config ConfigMap");
  return (cm.data ?? {}) as Record<string, string>;
}

/** The database layout an overlay deploys (its database component's STOCKLET_DB_LAYOUT). */
function layoutOf(objects: readonly K8sObject[]): DbLayout {
  const layout = settings(objects).STOCKLET_DB_LAYOUT;
  assert.ok(layout === "shared" || layout === "isolated", `STOCKLET_DB_LAYOUT=${layout}`);
  return layout;
}

/** The Jobs of one kind (`app.kubernetes.io/component`). */
function jobs(objects: readonly K8sObject[], component: string): K8sObject[] {
  return all(objects, "Job").filter((j) =>
    j.metadata.labels?.["app.kubernetes.io/component"] === component
  );
}

Deno.test("k8s: every overlay renders, and every object validates strictly", async () => {
  const names = await overlays();
  for (const o of ["dev", "prod"]) assert.ok(names.includes(o), `no overlay ${o}`);
  const objects = [
    ...await rendered("base"),
    ...(await Promise.all(names.map((o) => rendered(`overlays/${o}`)))).flat(),
  ];
  for (const version of KUBERNETES_VERSIONS) {
    const report = await kubeconform(objects, version);
    assert.deepEqual(report.invalid, [], `Kubernetes ${version}`);
    assert.equal(report.valid, objects.length);
  }
  const kinds = new Set(objects.map((o) => o.kind));
  for (
    const kind of [
      "Deployment",
      "Service",
      "HorizontalPodAutoscaler",
      "PodDisruptionBudget",
      "NetworkPolicy",
      "Job",
      "Kafka",
      "KafkaNodePool",
      "KafkaConnect",
      "KafkaConnector",
      "KafkaTopic",
      "Cluster",
      "ServiceMonitor",
      "PrometheusRule",
    ]
  ) assert.ok(kinds.has(kind), `no ${kind} rendered`);
  // Everything lands in the namespace the policies, connectors and addresses assume.
  for (const name of names) {
    for (const o of await rendered(`overlays/${name}`)) {
      if (o.kind === "Namespace") assert.equal(o.metadata.name, NAMESPACE);
      else assert.equal(o.metadata.namespace, NAMESPACE, `${name}: ${o.kind}/${o.metadata.name}`);
    }
  }
});

Deno.test("k8s: a broken manifest fails validation, naming the problem", async () => {
  const prod = structuredClone(await rendered("overlays/prod"));
  const deployment = find(prod, "Deployment", "order");
  (deployment.spec as Json).replicas = "two";
  const topic = all(prod, "KafkaTopic")[0]!;
  (topic.spec as Json).partitions = "six";
  const cluster = all(prod, "Cluster")[0]!;
  (cluster.spec as Json).instancez = 3;
  const policy = all(prod, "NetworkPolicy")[0]!;
  policy.metadata = { ...policy.metadata, lables: { a: "b" } } as K8sObject["metadata"];
  const kafka = find(prod, "Kafka", KAFKA_CLUSTER);
  delete ((kafka.spec as Json).kafka as Json).listeners;
  const monitor = all(prod, "ServiceMonitor")[0]!;
  ((monitor.spec as Json).endpoints as Json[])[0]!.intervall = "10s";
  const broken = [deployment, topic, cluster, policy, kafka, monitor];
  const report = await kubeconform(broken, KUBERNETES_VERSIONS[0]);
  const byObject = new Map(report.invalid.map((i) => [i.object, i.msg]));
  assert.equal(report.valid, 0, JSON.stringify(report.invalid, null, 2));
  assert.match(byObject.get("Deployment/order") ?? "", /\/spec\/replicas/);
  assert.match(byObject.get(`KafkaTopic/${topic.metadata.name}`) ?? "", /partitions/);
  assert.match(byObject.get(`Cluster/${cluster.metadata.name}`) ?? "", /instancez/);
  assert.match(byObject.get(`NetworkPolicy/${policy.metadata.name}`) ?? "", /lables/);
  assert.match(byObject.get(`Kafka/${KAFKA_CLUSTER}`) ?? "", /listeners/);
  assert.match(byObject.get(`ServiceMonitor/${monitor.metadata.name}`) ?? "", /intervall/);

  // A kustomization that names a missing file does not render.
  const dir = await Deno.makeTempDir({ prefix: "stocklet-k8s-" });
  try {
    await Deno.writeTextFile(
      join(dir, "kustomization.yaml"),
      "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [nope.yaml]\n",
    );
    await assert.rejects(kustomizeYaml(dir), /nope\.yaml/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const TUNABLE = "a tunable: the code's default applies (patch the Deployment)";

/** Variables a program reads that the manifests leave unset on purpose, by service. */
function unsetOnPurpose(svc: string): Record<string, string> {
  return {
    AUTH_TOKEN_TTL_SECONDS: TUNABLE,
    ORDER_SAGA_TIMEOUT_MS: TUNABLE,
    ORDER_SWEEP_INTERVAL_MS: TUNABLE,
    ORDER_MAX_IN_FLIGHT: TUNABLE,
    SHIPPING_MAX_UNITS_PER_SHIPMENT: TUNABLE,
    OUTBOX_RELAY_MAX_LAG_MS: TUNABLE,
    AUTH_KEY_ROTATION_DAYS: TUNABLE,
    STOCKLET_METRICS_GAUGE_REFRESH_MS: TUNABLE,
    MALLOC_TRIM_INTERVAL_MS: TUNABLE,
    NOTIFICATION_RETRY_BASE_MS: TUNABLE,
    NOTIFICATION_RETRY_MAX_MS: TUNABLE,
    NOTIFICATION_GIVE_UP_AFTER_MS: TUNABLE,
    STOCKLET_COURIER_DISPATCH_MS: "the courier simulator's pace; the simulator is off",
    STOCKLET_COURIER_DELIVER_MS: "the courier simulator's pace; the simulator is off",
    STOCKLET_INSECURE_DEV_ADMIN: "only the dev and test stacks run with published passwords; " +
      "a cluster's admin password is its required Secret's, checked for strength",
    STOCKLET_STATE_DIR: "the local tooling's state folder; unused in a pod",
    STOCKLET_INFRA_PROFILE: "picks the local infrastructure; a pod is given URLs",
    STOCKLET_TEST_PORT_SHIFT: "moves the local test stack's ports; no pod runs one",
    KUBERNETES_SERVICE_HOST: "the kubelet sets it in every pod (the API's address)",
    KUBERNETES_SERVICE_PORT: "the kubelet sets it in every pod (the API's port)",
    KAFKA_CONNECT_URL: "Strimzi owns the connectors (KafkaConnector)",
    ...(databaseOwner(svc).outbox ? {} : { OUTBOX_SLOT: `${svc} has no outbox to relay` }),
    ...(svc === WEB.name
      ? { STOCKLET_TRACE_URL: "no tracing UI is deployed: the order page shows `deno task trace`" }
      : {}),
  };
}

/** Variables set although no code of ours reads them. */
const SET_FOR_OTHERS: Record<string, string> = {
  OTEL_DENO: "Deno's runtime",
  OTEL_EXPORTER_OTLP_ENDPOINT: "Deno's runtime",
  OTEL_EXPORTER_OTLP_PROTOCOL: "Deno's runtime",
  PGUSER: "postgres.js's login when DATABASE_URL has none",
  PGPASSWORD: "postgres.js's login when DATABASE_URL has none",
};

const KNOWN_DYNAMIC_READS = new Set([
  "shared/config.ts: Deno.env.toObject()",
  "web/config.ts: Deno.env.toObject()", // loadWebConfig's source; its variables are scanned
  "scripts/infra/config.ts: Deno.env.get(name)",
]);

Deno.test("k8s: every variable the code reads is set, and every variable set is read", async () => {
  const graphs = new Map<string, Promise<string[]>>();
  const graph = (entry: string) => {
    let g = graphs.get(entry);
    if (!g) graphs.set(entry, g = localModulesOf(entry, ROOT));
    return g;
  };
  const problems: string[] = [];
  for (const overlay of await overlays()) {
    const objects = await rendered(`overlays/${overlay}`);
    const targets: Array<{
      where: string;
      svc: string;
      entry: string;
      c: Container;
      excused?: Record<string, string>;
    }> = [
      ...DATABASE_OWNERS.flatMap((s) => [
        {
          where: `${overlay} ${s.name}`,
          svc: s.name,
          entry: s.name === WEB.name ? WEB_ENTRY : `services/${s.name}/main.ts`,
          c: containers(find(objects, "Deployment", s.name))[0]!,
        },
        {
          where: `${overlay} ${s.name} wait-for-schema`,
          svc: s.name,
          entry: WAIT_ENTRY,
          c: containers(find(objects, "Deployment", s.name), true)[0]!,
        },
        {
          where: `${overlay} ${initJobOf(s.name)}`,
          svc: s.name,
          entry: INIT_ENTRY,
          c: containers(find(objects, "Job", initJobOf(s.name)))[0]!,
        },
      ]),
      ...relaysOf(layoutOf(objects)).flatMap((r) =>
        [find(objects, "Job", initJobOf(r.name)), find(objects, "CronJob", repairJobOf(r.name))]
          .map((job) => ({
            where: `${overlay} ${job.kind}/${job.metadata.name}`,
            svc: r.services[0]!,
            entry: RELAY_INIT_ENTRY,
            c: containers(job)[0]!,
            excused: {
              STOCKLET_SERVICE_DB_PASSWORD: "a relay's Job makes no role (its graph has the " +
                "local infrastructure's config through relay.ts' Connect client)",
            },
          }))
      ),
    ];
    for (const t of targets) {
      const files = await graph(t.entry);
      const reads = await envReadsOf(files, ROOT);
      if (t.entry === WEB_ENTRY) {
        // The web front reads every service's URL through the kit's serviceUrlSpec(), whose
        // variable names are computed (httpUrlVar): the scan cannot see them.
        assert.match(await Deno.readTextFile(join(ROOT, "web", "config.ts")), /serviceUrlSpec\(\)/);
        for (const v of Object.values(serviceUrlSpec())) reads.set(v.name, ["shared/config.ts"]);
      }
      const env = environment(objects, t.c);
      for (const [name, readers] of reads) {
        if (!env.has(name) && !(name in unsetOnPurpose(t.svc)) && !(name in (t.excused ?? {}))) {
          problems.push(`${t.where}: ${name} (read in ${readers.join(", ")}) is not set`);
        }
      }
      // What the container sets itself (the shared ConfigMap serves several programs).
      for (const e of t.c.env ?? []) {
        if (!reads.has(e.name) && !(e.name in SET_FOR_OTHERS)) {
          problems.push(`${t.where}: sets ${e.name}, which nothing in ${t.entry}'s modules reads`);
        }
      }
      // Every address of another service the code reads is a declared call (topology CALLS).
      if (t.entry.startsWith("services/")) {
        const svc = t.entry.split("/")[1]!;
        const addresses = [...reads.keys()].filter((n) => /^[A-Z]+_(GRPC_ADDR|HTTP_URL)$/.test(n));
        const declared = callsOf(svc).map(callVariableOf);
        if (JSON.stringify(addresses.sort()) !== JSON.stringify(declared.sort())) {
          problems.push(`${svc} reads ${addresses} but CALLS declares ${declared}`);
        }
      }
      for (const d of await dynamicEnvReadsOf(files, ROOT)) {
        if (!KNOWN_DYNAMIC_READS.has(d)) problems.push(`${t.entry}: ${d} is not scanned`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

Deno.test("k8s: the services and the web front get the topology's ports, addresses and their database", async () => {
  for (const overlay of await overlays()) {
    const objects = await rendered(`overlays/${overlay}`);
    const clusters = all(objects, "Cluster");
    for (const spec of DATABASE_OWNERS) {
      const env = environment(objects, containers(find(objects, "Deployment", spec.name))[0]!);
      assert.equal(env.get("BIND_HOST"), "0.0.0.0");
      assert.equal(
        env.get("AUTH_JWKS_URL"),
        `http://auth:${serviceSpec("auth").httpPort}/v1/auth/jwks`,
      );
      if (spec.name === WEB.name) {
        assert.equal(env.get("HTTP_PORT"), String(WEB.httpPort));
        for (const s of SERVICES) {
          assert.equal(env.get(httpUrlVar(s.name)), `http://${s.name}:${s.httpPort}`, s.name);
        }
      } else {
        const svc = serviceSpec(spec.name);
        assert.equal(env.get("HTTP_PORT"), String(svc.httpPort));
        assert.equal(env.get("GRPC_PORT"), String(svc.grpcPort));
        for (const call of callsOf(spec.name)) {
          const callee = serviceSpec(call.to);
          const port = call.over === "grpc" ? callee.grpcPort : callee.httpPort;
          assert.ok(
            [...env.values()].some((v) => v.includes(`${callee.name}:${port}`)),
            `${spec.name} is given ${call.to}'s ${call.over} address`,
          );
        }
      }
      // DATABASE_URL: the primary of the cluster holding its placement's database, as its role,
      // whose password only comes from the roles' Secret.
      const layout = layoutOf(objects);
      const place = placementOf(spec.name, layout);
      assert.equal(env.get("STOCKLET_DB_LAYOUT"), layout);
      const url = new URL(env.get("DATABASE_URL")!);
      const cluster = clusters.find((c) => url.hostname === `${c.metadata.name}-rw`);
      assert.ok(cluster, `${overlay} ${spec.name}: ${url.hostname} is no cluster's primary`);
      assert.equal(url.pathname, `/${place.database}`);
      assert.equal(url.username, place.role);
      assert.equal(url.password, "", "no password in a URL");
      assert.ok(
        holds(objects, cluster.metadata.name).includes(place.database),
        `${cluster.metadata.name} holds no database ${place.database}`,
      );
      const service = containers(find(objects, "Deployment", spec.name))[0]!;
      assert.deepEqual(valueFrom(service, "PGPASSWORD"), secretRef(DB_PASSWORD));
      assert.equal(
        env.get("OUTBOX_SLOT"),
        spec.outbox ? relayOf(spec.name, layout).slot : undefined,
      );
      // The schema wait logs in as the service does.
      const wait = environment(
        objects,
        containers(find(objects, "Deployment", spec.name), true)[0]!,
      );
      for (const name of ["DATABASE_URL", "PGPASSWORD"]) {
        assert.equal(wait.get(name), env.get(name));
      }

      // The init Job: the same cluster and database, as the superuser; the role's password.
      const jobContainer = containers(find(objects, "Job", initJobOf(spec.name)))[0]!;
      const job = environment(objects, jobContainer);
      const admin = new URL(job.get("DATABASE_URL")!);
      assert.equal(admin.host, url.host);
      assert.equal(admin.pathname, url.pathname);
      assert.equal(admin.username, "", "the login is PGUSER's");
      const su = superuserSecretOf(cluster.metadata.name);
      assert.deepEqual(
        valueFrom(jobContainer, "PGUSER"),
        secretRef({ secret: su, key: "username" }),
      );
      assert.deepEqual(
        valueFrom(jobContainer, "PGPASSWORD"),
        secretRef({ secret: su, key: "password" }),
      );
      assert.deepEqual(valueFrom(jobContainer, DB_PASSWORD.key), secretRef(DB_PASSWORD));
    }
  }
});

/** Where a container's variable comes from (`valueFrom`). */
function valueFrom(c: Container, name: string): Json | undefined {
  return c.env?.find((e) => e.name === name)?.valueFrom;
}

/** A `valueFrom` of a Secret's key. */
function secretRef(s: { secret: string; key: string }): Json {
  return { secretKeyRef: { name: s.secret, key: s.key } };
}

/** The databases a CloudNativePG cluster holds: the one its initdb makes (the layouts need one). */
function holds(objects: readonly K8sObject[], cluster: string): string[] {
  const spec = find(objects, "Cluster", cluster).spec as Json;
  return [((spec.bootstrap as Json).initdb as Json).database as string];
}

Deno.test("k8s: Secrets are referenced, never written; only init and repair Jobs and Connect get a superuser", async () => {
  for (const overlay of await overlays()) {
    const objects = await rendered(`overlays/${overlay}`);
    assert.deepEqual(
      all(objects, "Secret"),
      [],
      "no Secret (and so no default value) in the manifests",
    );
    const superusers = new Set(
      all(objects, "Cluster").map((c) => superuserSecretOf(c.metadata.name)),
    );
    const refs: Array<{ name: string; key: string; optional?: boolean; where: string }> = [];
    const walk = (node: unknown, where: string) => {
      if (Array.isArray(node)) node.forEach((x) => walk(x, where));
      else if (node && typeof node === "object") {
        for (const [k, v] of Object.entries(node)) {
          if (k === "secretKeyRef") refs.push({ ...(v as { name: string; key: string }), where });
          else walk(v, where);
        }
      }
    };
    for (const o of objects) walk(o, `${o.kind}/${o.metadata.name}`);
    const initJobs = new Set([
      ...[...jobs(objects, COMPONENT.init), ...jobs(objects, COMPONENT.relayInit)]
        .map((j) => `Job/${j.metadata.name}`),
      ...all(objects, "CronJob").map((j) => `CronJob/${j.metadata.name}`),
    ]);
    for (const r of refs) {
      const ours = SECRETS.find((s) => s.secret === r.name && s.key === r.key) ??
        (r.name === DB_PASSWORD.secret && r.key === DB_PASSWORD.key ? DB_PASSWORD : undefined);
      const superuser = superusers.has(r.name) && ["username", "password"].includes(r.key);
      assert.ok(
        ours || superuser,
        `${overlay} ${r.where}: ${r.name}/${r.key} is neither documented nor CloudNativePG's`,
      );
      if (superuser) {
        assert.ok(
          initJobs.has(r.where) || r.where === `KafkaConnect/${CONNECT_CLUSTER}`,
          `${overlay} ${r.where} gets a database superuser`,
        );
      }
      const optional = ours && "optional" in ours ? ours.optional : false;
      assert.equal(r.optional ?? false, optional, `${r.where}: ${r.key}`);
    }
    for (const s of SECRETS) {
      assert.ok(
        refs.some((r) =>
          r.name === s.secret && r.key === s.key && r.where === `Deployment/${s.service}`
        ),
        `${overlay}: ${s.service} does not read ${s.secret}/${s.key}`,
      );
    }
    for (const spec of DATABASE_OWNERS) {
      for (const where of [`Deployment/${spec.name}`, `Job/${initJobOf(spec.name)}`]) {
        assert.ok(
          refs.some((r) =>
            r.name === DB_PASSWORD.secret && r.key === DB_PASSWORD.key && r.where === where
          ),
          `${overlay}: ${where} does not read the roles' password`,
        );
      }
    }
    const required = SECRETS.filter((s) => !s.optional).map((s) => s.key).sort();
    assert.deepEqual(required, ["NOTIFICATION_SMTP_URL", "STOCKLET_ADMIN_PASSWORD"]);
  }
});

// ---------------------------------------------------------------------------------------------
// Network flows.

interface Target {
  endpoints: Endpoint[];
  port: number;
}

/** The pods behind a host name and the port they listen on, as the cluster would resolve it. */
function resolve(objects: readonly K8sObject[], host: string, port: number): Target | undefined {
  if (host === `${KAFKA_CLUSTER}-kafka-bootstrap`) {
    return { endpoints: [pod(NAMESPACE, { ...STRIMZI_PODS.brokers }, "kafka")], port };
  }
  const cluster = all(objects, "Cluster").find((c) => host === `${c.metadata.name}-rw`);
  if (cluster) {
    return {
      endpoints: [pod(NAMESPACE, { "cnpg.io/cluster": cluster.metadata.name }, host)],
      port,
    };
  }
  const svc = all(objects, "Service").find((s) => s.metadata.name === host);
  if (!svc) return undefined;
  const spec = svc.spec as {
    selector: Record<string, string>;
    ports: Array<{ port: number; targetPort: string | number }>;
  };
  const p = spec.ports.find((x) => x.port === port);
  if (!p) return { endpoints: [], port };
  const workloads = [...all(objects, "Deployment")].filter((d) =>
    Object.entries(spec.selector).every(([k, v]) =>
      ((d.spec as Json).template as { metadata: { labels: Record<string, string> } }).metadata
        .labels[k] === v
    )
  );
  const endpoints = workloads.map(podOf);
  const target = typeof p.targetPort === "number"
    ? p.targetPort
    : workloads.flatMap((w) => containers(w))
      .flatMap((c) => c.ports ?? []).find((cp) => cp.name === p.targetPort)?.containerPort;
  return { endpoints, port: target ?? -1 };
}

function podOf(o: K8sObject): Endpoint {
  return pod(NAMESPACE, podTemplate(o).metadata.labels, `${o.kind}/${o.metadata.name}`);
}

/** host:port pairs in a value: URLs and comma-separated host:port lists. */
function addressesIn(value: string): Array<{ host: string; port: number }> {
  if (/^[a-z][a-z0-9+.-]*:\/\//.test(value)) {
    const u = new URL(value.replaceAll(/<[^>]*>/g, "x"));
    return u.port ? [{ host: u.hostname, port: Number(u.port) }] : [];
  }
  return value.split(",").flatMap((part) => {
    const m = /^([a-z0-9.-]+):(\d+)$/.exec(part.trim());
    return m ? [{ host: m[1]!, port: Number(m[2]) }] : [];
  });
}

/** Strimzi writes the Kafka listener's policy from networkPolicyPeers: the same, as an object. */
function strimziListenerPolicy(objects: readonly K8sObject[]): K8sObject {
  const kafka = find(objects, "Kafka", KAFKA_CLUSTER);
  const listeners = ((kafka.spec as Json).kafka as Json).listeners as Array<Json>;
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: "strimzi-listeners", namespace: NAMESPACE },
    spec: {
      podSelector: { matchLabels: { ...STRIMZI_PODS.brokers } },
      policyTypes: ["Ingress"],
      ingress: listeners.map((l) => ({
        from: l.networkPolicyPeers ?? [],
        ports: [{ protocol: "TCP", port: l.port }],
      })),
    },
  };
}

Deno.test("k8s: the network policies let every flow of the wiring through, and stop the rest", async () => {
  const consumers = new Set((await subscriptionsOf()).map((s) => s.service));
  for (const overlay of await overlays()) {
    const objects = await rendered(`overlays/${overlay}`);
    const model = new NetworkModel([...objects, strimziListenerPolicy(objects)], NAMESPACE);
    const problems: string[] = [];
    let checked = 0;
    const expect = (allowed: boolean, src: Endpoint, host: string, port: number, why: string) => {
      const t = resolve(objects, host, port);
      if (!t || !t.endpoints.length || t.port < 0) {
        if (allowed) problems.push(`${src.name} → ${host}:${port} (${why}): nothing listens there`);
        return;
      }
      for (const dst of t.endpoints) {
        checked++;
        if (model.allows(src, dst, t.port) !== allowed) {
          problems.push(
            `${src.name} → ${dst.name}:${t.port} (${why}) should be ${
              allowed ? "allowed" : "denied"
            }`,
          );
        }
      }
    };

    // Everything the wiring points the services, the web front, init containers and Jobs at.
    for (const spec of DATABASE_OWNERS) {
      const deployment = find(objects, "Deployment", spec.name);
      const src = podOf(deployment);
      for (const [name, value] of environment(objects, containers(deployment)[0]!)) {
        // Only a consumer connects to Kafka (shared/service.ts starts one only for reactions).
        if (name === "KAFKA_BROKERS" && !consumers.has(spec.name)) continue;
        // A link for browsers, not an address the web front calls.
        if (name === "STOCKLET_TRACE_URL") continue;
        for (const a of addressesIn(value)) {
          expect(true, src, a.host, a.port, `${spec.name} ${name}`);
        }
      }
      const wait = containers(deployment, true)[0]!;
      for (const e of wait.env ?? []) {
        for (const a of addressesIn(environment(objects, wait).get(e.name)!)) {
          expect(true, src, a.host, a.port, `${spec.name} wait-for-schema ${e.name}`);
        }
      }
    }
    // The init Jobs, the services' and the relays'.
    const initJobs = [...jobs(objects, COMPONENT.init), ...jobs(objects, COMPONENT.relayInit)];
    const relays = relaysOf(layoutOf(objects));
    assert.equal(initJobs.length, DATABASE_OWNERS.length + relays.length);
    const repairJobs = all(objects, "CronJob");
    assert.equal(repairJobs.length, relays.length);
    for (const job of [...initJobs, ...repairJobs]) {
      const c = containers(job)[0]!;
      for (const e of c.env ?? []) {
        for (const a of addressesIn(environment(objects, c).get(e.name)!)) {
          expect(true, podOf(job), a.host, a.port, `${job.metadata.name} ${e.name}`);
        }
      }
      expect(false, podOf(job), `${KAFKA_CLUSTER}-kafka-bootstrap`, 9092, "an init Job");
      // Only the repair Jobs talk to the Kubernetes API (no pod: outside, to the model).
      const repair = job.kind === "CronJob";
      for (const port of KUBERNETES_API_PORTS) {
        checked++;
        if (model.allows(podOf(job), OUTSIDE, port) !== repair) {
          problems.push(`${job.metadata.name} → the Kubernetes API (${port}): ${!repair}`);
        }
      }
      assert.ok(!model.allows(podOf(job), OUTSIDE, 5432), job.metadata.name);
    }
    // Envoy: its clusters and the JWKS it fetches.
    const edge = podOf(find(objects, "Deployment", EDGE));
    const envoyCm = all(objects, "ConfigMap").find((c) => c.metadata.name.startsWith("envoy"))!;
    for (const u of envoyUpstreams((envoyCm.data as Record<string, string>)["envoy.yaml"]!)) {
      expect(true, edge, u.host, u.port, `Envoy cluster ${u.cluster}`);
    }
    expect(true, OUTSIDE, EDGE, 80, "the public door");
    // Connect: Kafka, and each connector's database.
    const connect = pod(NAMESPACE, { ...STRIMZI_PODS.connect }, CONNECT_CLUSTER);
    expect(true, connect, `${KAFKA_CLUSTER}-kafka-bootstrap`, 9092, "Connect");
    for (const k of all(objects, "KafkaConnector")) {
      const cfg = (k.spec as Json).config as Record<string, string>;
      expect(
        true,
        connect,
        cfg["database.hostname"]!,
        Number(cfg["database.port"]),
        k.metadata.name,
      );
    }
    // CloudNativePG's operator reaches every instance's status port.
    const operator = pod(
      CNPG_OPERATOR_NAMESPACE,
      { "app.kubernetes.io/name": "cloudnative-pg" },
      "cnpg operator",
    );
    for (const c of all(objects, "Cluster")) {
      assert.ok(
        model.allows(operator, pod(NAMESPACE, { "cnpg.io/cluster": c.metadata.name }), 8000),
      );
    }

    // The mail server outside the cluster: the notification service on the SMTP ports only.
    for (const spec of SERVICES) {
      const src = podOf(find(objects, "Deployment", spec.name));
      const outside = OUTSIDE_EGRESS[spec.name] ?? [];
      for (const port of SMTP_PORTS) {
        checked++;
        if (model.allows(src, OUTSIDE, port) !== outside.includes(port)) {
          problems.push(
            `${spec.name} → outside:${port} should be ${outside.length ? "allowed" : "denied"}`,
          );
        }
      }
      for (const port of [80, 443, 5432]) {
        if (model.allows(src, OUTSIDE, port)) problems.push(`${spec.name} → outside:${port}`);
      }
    }
    assert.deepEqual(OUTSIDE_EGRESS, { notification: SMTP_PORTS });
    // Prometheus (the operator's, any namespace) scrapes the collector's exporter; nothing else.
    const collector = podOf(find(objects, "Deployment", COLLECTOR));
    const prometheus = pod("monitoring", { ...PROMETHEUS_PODS }, "prometheus");
    const grafana = pod("monitoring", { "app.kubernetes.io/name": "grafana" }, "grafana");
    assert.ok(model.allows(prometheus, collector, COLLECTOR_PORTS.metrics), "Prometheus scrapes");
    assert.ok(!model.allows(grafana, collector, COLLECTOR_PORTS.metrics), "only Prometheus");
    assert.ok(!model.allows(OUTSIDE, collector, COLLECTOR_PORTS.metrics), "not from outside");
    assert.ok(!model.allows(prometheus, collector, COLLECTOR_PORTS.otlpHttp), "no OTLP");

    // What must not pass.
    for (const spec of SERVICES) {
      expect(false, OUTSIDE, spec.name, spec.httpPort, "outside to a service");
      expect(false, OUTSIDE, spec.name, spec.grpcPort, "outside to a service");
      expect(false, edge, spec.name, spec.grpcPort, "the edge speaks HTTP only");
      const src = podOf(find(objects, "Deployment", spec.name));
      if (!consumers.has(spec.name)) {
        expect(false, src, `${KAFKA_CLUSTER}-kafka-bootstrap`, 9092, "no consumer, no Kafka");
      }
      for (const other of SERVICES) {
        if (other.name === spec.name) continue;
        const calls = callsOf(spec.name).find((c) => c.to === other.name);
        if (other.name !== "auth" && calls?.over !== "http") {
          expect(false, src, other.name, other.httpPort, "an uncalled service");
        }
        if (calls?.over !== "grpc") {
          expect(false, src, other.name, other.grpcPort, "an uncalled service");
        }
      }
      expect(false, src, WEB.name, WEB.httpPort, "only the edge calls the web front");
    }
    // The web front calls the REST gateways only.
    const web = podOf(find(objects, "Deployment", WEB.name));
    expect(false, OUTSIDE, WEB.name, WEB.httpPort, "outside to the web front");
    for (const spec of SERVICES) expect(false, web, spec.name, spec.grpcPort, "gRPC from the web");
    // Nobody reaches another's database.
    const hostOf = (name: string) =>
      new URL(
        environment(objects, containers(find(objects, "Deployment", name))[0]!).get(
          "DATABASE_URL",
        )!,
      ).hostname;
    for (const a of DATABASE_OWNERS) {
      for (const b of DATABASE_OWNERS) {
        if (hostOf(a.name) !== hostOf(b.name)) {
          expect(
            false,
            podOf(find(objects, "Deployment", a.name)),
            hostOf(b.name),
            5432,
            "another's database",
          );
        }
      }
    }
    for (const c of all(objects, "Cluster")) {
      expect(false, OUTSIDE, `${c.metadata.name}-rw`, 5432, "outside to a database");
      expect(false, edge, `${c.metadata.name}-rw`, 5432, "the edge to a database");
    }
    assert.deepEqual(problems, [], overlay);
    assert.ok(checked > 10 * SERVICES.length, `${overlay}: only ${checked} flows checked`);
  }
});

Deno.test("k8s: topics, connectors and databases follow the topology and the local stack", async () => {
  const consumers = [...new Set((await subscriptionsOf()).map((s) => s.service))];
  const debezium = await debeziumVersion();
  for (const overlay of await overlays()) {
    const objects = await rendered(`overlays/${overlay}`);
    const layout = layoutOf(objects);
    const partitions = Number(settings(objects).STOCKLET_TOPIC_PARTITIONS);
    const brokers = all(objects, "KafkaNodePool").filter((p) =>
      ((p.spec as Json).roles as string[]).includes("broker")
    )
      .reduce((n, p) => n + ((p.spec as Json).replicas as number), 0);
    const topics = all(objects, "KafkaTopic");
    assert.deepEqual(
      topics.map((t) => (t.spec as Json).topicName).sort(),
      [
        ...TOPICS.keys(),
        RELAY_HEARTBEAT_TOPIC,
        ...consumers.map((s) => deadLetterTopicOf(consumerGroupOf(s))),
      ].sort(),
    );
    for (const t of topics) {
      const spec = t.spec as {
        partitions: number;
        replicas: number;
        config: Record<string, number>;
      };
      assert.equal(
        spec.partitions,
        partitions,
        `${overlay} ${t.metadata.name}: as the consumers create them`,
      );
      assert.ok(
        spec.replicas <= brokers,
        `${overlay}: ${spec.replicas} replicas on ${brokers} brokers`,
      );
      assert.ok(
        spec.config["min.insync.replicas"]! <= Math.max(1, spec.replicas - 1) ||
          spec.replicas === 1,
      );
    }

    const connect = find(objects, "KafkaConnect", CONNECT_CLUSTER);
    const artifact =
      (((connect.spec as Json).build as Json).plugins as Array<{ artifacts: Array<Json> }>)[0]!
        .artifacts[0]!;
    assert.deepEqual([artifact.type, artifact.group, artifact.artifact, artifact.version], [
      "maven",
      "io.debezium",
      "debezium-connector-postgres",
      debezium,
    ]);
    const env = ((((connect.spec as Json).template as Json).connectContainer as Json).env as Array<
      { name: string }
    >).map((e) => e.name);

    // One connector per relay of the layout, with the local stack's config.
    const relays = relaysOf(layout);
    assert.deepEqual(
      all(objects, "KafkaConnector").map((k) => k.metadata.name).sort(),
      relays.map((r) => r.name).sort(),
    );
    for (const relay of relays) {
      const k = find(objects, "KafkaConnector", relay.name);
      const spec = k.spec as { class: string; tasksMax: number; config: Record<string, string> };
      const local = relayConnectorConfig({
        relay,
        db: connectorDatabase(DATABASE_LAYOUTS[layout], relay),
        partitions,
      });
      // The local stack's config, with Kubernetes' own differences only.
      const { "connector.class": cls, "tasks.max": tasks, ...rest } = local;
      assert.equal(spec.class, cls);
      assert.equal(String(spec.tasksMax), tasks);
      const cluster = all(objects, "Cluster").find((c) =>
        `${c.metadata.name}-rw` === spec.config["database.hostname"]
      );
      assert.ok(cluster, `${overlay}: ${spec.config["database.hostname"]} is no cluster's primary`);
      const cspec = cluster.spec as {
        instances: number;
        enableSuperuserAccess: boolean;
        postgresql: { parameters: Record<string, string> };
        replicationSlots?: { highAvailability: Json };
      };
      const deliberate: Record<string, string> = {
        "topic.creation.default.replication.factor": "-1",
        ...(cspec.instances > 1 ? { "slot.failover": "true" } : {}),
      };
      for (const [key, value] of Object.entries({ ...rest, ...deliberate })) {
        assert.equal(spec.config[key], value, `${overlay} ${k.metadata.name} ${key}`);
      }
      assert.deepEqual(
        Object.keys(spec.config).sort(),
        Object.keys({ ...rest, ...deliberate }).sort(),
        `${overlay} ${k.metadata.name}: no other keys`,
      );
      // Debezium logs in as that cluster's superuser, from Connect's environment.
      for (const [v, key] of [["database.user", "username"], ["database.password", "password"]]) {
        const name = /^\$\{env:([A-Z_]+)\}$/.exec(spec.config[v!]!)?.[1];
        assert.ok(name && env.includes(name), `${overlay}: Connect has no ${spec.config[v!]}`);
        const from = ((((connect.spec as Json).template as Json).connectContainer as Json)
          .env as Array<{ name: string; valueFrom: Json }>).find((e) => e.name === name)!;
        assert.deepEqual(from.valueFrom, {
          secretKeyRef: { name: superuserSecretOf(cluster.metadata.name), key },
        });
      }
      assert.equal(cspec.enableSuperuserAccess, true);
      // The database it reads is in the cluster it connects to, which decodes logically.
      assert.equal(spec.config["database.dbname"], relay.database);
      assert.ok(holds(objects, cluster.metadata.name).includes(relay.database));
      assert.equal(
        relayClusterOf(DATABASE_LAYOUTS[layout], relay),
        cluster.metadata.name,
      );
      assert.equal(cspec.postgresql.parameters.wal_level, "logical");
      const read = relays.filter((r) => holds(objects, cluster.metadata.name).includes(r.database))
        .length;
      for (const p of ["max_replication_slots", "max_wal_senders"]) {
        assert.ok(Number(cspec.postgresql.parameters[p]) >= read + cspec.instances, p);
      }
      if (cspec.instances > 1) {
        assert.equal(cspec.replicationSlots?.highAvailability.synchronizeLogicalDecoding, true);
      }
      // Its init Job prepares that database.
      const job = find(objects, "Job", initJobOf(relay.name));
      const jobEnv = environment(objects, containers(job)[0]!);
      assert.equal(jobEnv.get("RELAY"), relay.name);
      const url = new URL(jobEnv.get("DATABASE_URL")!);
      assert.equal(url.hostname, spec.config["database.hostname"]);
      assert.equal(url.pathname, `/${relay.database}`);
    }
  }
});

Deno.test("k8s: probes, autoscaling, disruption budgets and graceful shutdown", async () => {
  for (const overlay of await overlays()) {
    const objects = await rendered(`overlays/${overlay}`);
    for (const spec of DATABASE_OWNERS) {
      const d = find(objects, "Deployment", spec.name);
      assert.equal((d.spec as Json).replicas, undefined, "the autoscaler owns the replica count");
      const c = containers(d)[0]!;
      const probe = (name: string) => c[name] as Json;
      if (spec.name === WEB.name) {
        assert.equal((probe("livenessProbe").httpGet as Json).path, "/healthz");
      } else {
        assert.deepEqual(
          (probe("livenessProbe").grpc as Json).port,
          serviceSpec(spec.name).grpcPort,
        );
      }
      assert.equal((probe("readinessProbe").httpGet as Json).path, "/readyz");
      assert.equal((probe("startupProbe").httpGet as Json).path, "/healthz");
      const preStop = (((c.lifecycle as Json).preStop as Json).sleep as Json).seconds as number;
      const grace = podSpec(d).terminationGracePeriodSeconds as number;
      assert.ok(preStop >= 5, "long enough to leave the endpoints and Envoy's DNS");
      assert.ok(
        grace >= preStop + 25,
        `${spec.name}: ${grace} s cannot hold ${preStop} s + the drain`,
      );
      const hpa = find(objects, "HorizontalPodAutoscaler", spec.name).spec as Json;
      assert.deepEqual((hpa.scaleTargetRef as Json).name, spec.name);
      assert.ok((hpa.minReplicas as number) <= (hpa.maxReplicas as number));
      const pdb = find(objects, "PodDisruptionBudget", spec.name).spec as Json;
      assert.deepEqual(
        (pdb.selector as Json).matchLabels,
        ((d.spec as Json).selector as Json).matchLabels,
      );
      assert.ok(c.resources, `${spec.name} has resources`);
      const labels =
        ((d.spec as Json).template as { metadata: { labels: Record<string, string> } }).metadata
          .labels;
      assert.equal(labels["app.kubernetes.io/component"], COMPONENT.service);
    }
    if (overlay === "prod") {
      for (const spec of DATABASE_OWNERS) {
        assert.ok(
          ((find(objects, "HorizontalPodAutoscaler", spec.name).spec as Json)
            .minReplicas as number) >= 2,
        );
      }
    }
    // Envoy drains through its admin port (as deploy/envoy/envoy.yaml binds it) before it stops.
    const edge = find(objects, "Deployment", EDGE);
    const c = containers(edge)[0]!;
    const envoyCm = all(objects, "ConfigMap").find((x) => x.metadata.name.startsWith("envoy"))!;
    const text = (envoyCm.data as Record<string, string>)["envoy.yaml"]!;
    assert.equal(text, await Deno.readTextFile(join(ROOT, "deploy", "envoy", "envoy.yaml")));
    const admin =
      (parse(text) as { admin: { address: { socket_address: { port_value: number } } } }).admin
        .address.socket_address.port_value;
    const cmd = ((((c.lifecycle as Json).preStop as Json).exec as Json).command as string[]).join(
      " ",
    );
    assert.match(cmd, new RegExp(`/dev/tcp/127\\.0\\.0\\.1/${admin}\\b`));
    assert.match(cmd, /drain_listeners\?graceful/);
    assert.ok((podSpec(edge).terminationGracePeriodSeconds as number) > SHUTDOWN.edgeDrain);
  }
});

Deno.test("k8s: every program the manifests run is cached in the app image", async () => {
  const dockerfile = await Deno.readTextFile(join(ROOT, "deploy", "docker", "Dockerfile"));
  const run = /^RUN deno cache --frozen ((?:[^\n]*\\\n)*[^\n]*)$/m.exec(dockerfile)?.[1];
  assert.ok(run, "no `RUN deno cache` in deploy/docker/Dockerfile");
  const cached = run.replaceAll("\\\n", " ").split(/\s+/).filter(Boolean).map((glob) =>
    new RegExp(`^${glob.replaceAll(".", "\\.").replaceAll("*", "[^/]+")}$`)
  );
  const entries = new Set<string>();
  for (const overlay of await overlays()) {
    for (const o of await rendered(`overlays/${overlay}`)) {
      if (!["Deployment", "Job", "CronJob"].includes(o.kind)) continue;
      for (const init of [true, false]) {
        for (const c of containers(o, init)) {
          const cmd = (c.command ?? []) as string[];
          if (cmd[0] !== "deno") continue;
          assert.deepEqual(cmd.slice(0, 4), ["deno", "run", "-A", "--cached-only"]);
          // The apps run with the V8 flags every app runs with locally and in compose.
          const app = o.kind === "Deployment" && !init;
          assert.deepEqual(cmd.slice(4, -1), app ? [`--v8-flags=${APP_V8_FLAGS}`] : [], c.name);
          // The apps run their bundles (built into the image from their cached entries).
          const last = cmd.at(-1)!;
          const entry = app
            ? last.replace(`${IMAGE_BUNDLE_DIR}/`, "").replace(/\.js$/, ".ts")
            : last;
          if (app) assert.equal(last, bundleOfEntry(entry, IMAGE_BUNDLE_DIR), c.name);
          entries.add(entry);
        }
      }
    }
  }
  for (const e of [INIT_ENTRY, WAIT_ENTRY, RELAY_INIT_ENTRY]) assert.ok(entries.has(e), e);
  for (const e of entries) {
    assert.ok(cached.some((g) => g.test(e)), `${e} is not cached by the Dockerfile`);
    await Deno.stat(join(ROOT, e));
  }
});

Deno.test("k8s: the Prometheus operator scrapes the collector's exporter and loads the compose alert rules", async () => {
  const compose = parse(
    await Deno.readTextFile(join(ROOT, "deploy", "docker", "otel-collector.yaml")),
  ) as { exporters: { prometheus: Json } };
  const alerts = parse(
    await Deno.readTextFile(join(ROOT, "deploy", "prometheus", "alerts.yaml")),
  ) as { groups: unknown[] };
  for (const overlay of await overlays()) {
    const objects = await rendered(`overlays/${overlay}`);
    const monitors = all(objects, "ServiceMonitor");
    if (overlay === "dev") {
      // One small node without the Prometheus operator: the component is opt-in there.
      assert.deepEqual(monitors, []);
      continue;
    }
    assert.equal(monitors.length, 1, `${overlay}: one ServiceMonitor`);
    const spec = monitors[0]!.spec as {
      selector: { matchLabels: Record<string, string> };
      endpoints: Array<{ port: string; honorLabels?: boolean }>;
    };
    // It selects the collector's Service, whose named port reaches the exporter's container port.
    const services = all(objects, "Service").filter((s) =>
      Object.entries(spec.selector.matchLabels).every(([k, v]) => s.metadata.labels?.[k] === v)
    );
    assert.deepEqual(services.map((s) => s.metadata.name), [COLLECTOR]);
    const port = (services[0]!.spec as { ports: Array<{ name: string; targetPort: string }> })
      .ports.find((p) => p.name === spec.endpoints[0]!.port);
    assert.ok(port, `the collector's Service has no port ${spec.endpoints[0]!.port}`);
    assert.equal(spec.endpoints[0]!.honorLabels, true, "job and instance are the services'");
    const container = containers(find(objects, "Deployment", COLLECTOR))[0]!;
    const containerPort = container.ports?.find((p) => p.name === port.targetPort)?.containerPort;
    assert.equal(containerPort, COLLECTOR_PORTS.metrics);
    // The collector's metrics pipeline ends in that exporter, configured as compose's.
    const cm = all(objects, "ConfigMap").find((c) => c.metadata.name.startsWith(COLLECTOR))!;
    const config = parse((cm.data as Record<string, string>)["config.yaml"]!) as {
      exporters: { prometheus: { endpoint: string } };
      service: { pipelines: { metrics: { exporters: string[] } } };
    };
    assert.deepEqual(config.service.pipelines.metrics.exporters, ["prometheus"]);
    assert.deepEqual(config.exporters.prometheus, compose.exporters.prometheus);
    assert.equal(Number(config.exporters.prometheus.endpoint.split(":").pop()), containerPort);
    // The alert rules are compose's, unchanged.
    const rules = all(objects, "PrometheusRule");
    assert.equal(rules.length, 1);
    assert.deepEqual((rules[0]!.spec as { groups: unknown[] }).groups, alerts.groups);
  }
});

Deno.test("k8s: each relay has a repair CronJob, which may read and patch its layout's connectors and nothing else", async () => {
  for (const overlay of await overlays()) {
    const objects = await rendered(`overlays/${overlay}`);
    const relays = relaysOf(layoutOf(objects));
    for (const relay of relays) {
      const cron = find(objects, "CronJob", repairJobOf(relay.name));
      const spec = cron.spec as { schedule: string; concurrencyPolicy: string };
      assert.equal(spec.concurrencyPolicy, "Forbid", "one repair at a time");
      assert.match(spec.schedule, /^\S+ \S+ \S+ \S+ \S+$/);
      const pod = podSpec(cron);
      assert.equal(pod.serviceAccountName, RELAY_REPAIR_ACCOUNT);
      const c = containers(cron)[0]!;
      assert.deepEqual((c.command as string[]).slice(4), [RELAY_INIT_ENTRY]);
      const env = environment(objects, c);
      assert.equal(env.get("RELAY"), relay.name);
      assert.equal(env.get("RELAY_MODE"), "repair");
      // The same database, as the same superuser, as the relay's init Job.
      const init = containers(find(objects, "Job", initJobOf(relay.name)))[0]!;
      assert.equal(environment(objects, init).get("RELAY_MODE"), "prepare");
      for (const name of ["DATABASE_URL", "PGUSER", "PGPASSWORD"]) {
        assert.equal(env.get(name), environment(objects, init).get(name), name);
      }
    }
    // The account: bound to one Role, which may get and patch these connectors only.
    const account = find(objects, "ServiceAccount", RELAY_REPAIR_ACCOUNT);
    const bindings = [...all(objects, "RoleBinding"), ...all(objects, "ClusterRoleBinding")]
      .filter((b) =>
        (b.subjects as Array<{ kind: string; name: string; namespace?: string }>).some((s) =>
          s.kind === "ServiceAccount" && s.name === account.metadata.name &&
          s.namespace === NAMESPACE
        )
      );
    assert.deepEqual(bindings.map((b) => b.kind), ["RoleBinding"]);
    const ref = bindings[0]!.roleRef as { kind: string; name: string };
    assert.equal(ref.kind, "Role");
    const role = find(objects, "Role", ref.name);
    assert.deepEqual(role.rules, [{
      apiGroups: ["kafka.strimzi.io"],
      resources: ["kafkaconnectors"],
      resourceNames: all(objects, "KafkaConnector").map((k) => k.metadata.name).sort(),
      verbs: ["get", "patch"],
    }]);
    // No other pod of ours runs as it, or gets any token for the API.
    for (const o of objects.filter((x) => ["Deployment", "Job"].includes(x.kind))) {
      assert.equal(podSpec(o).serviceAccountName, undefined, o.metadata.name);
      assert.equal(podSpec(o).automountServiceAccountToken, false, o.metadata.name);
    }
  }
});
