import assert from "node:assert/strict";
import { SERVICE_NAMES } from "@stocklet/shared/topology";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { BUNDLE_RESOURCES } from "./bundle.ts";
import {
  appArgs,
  appEnv,
  appStateDir,
  baseOf,
  buildDirOf,
  bundleFileOf,
  entryOf,
  everyApp,
  grpcPortOf,
  httpPortOf,
  REPLICA_PORT_STEP,
  replicaCount,
  replicaOf,
  replicasOf,
  replicaSpec,
  stackPorts,
} from "./config.ts";

const infra = {
  serviceDbUrl: (svc: string) => `postgres://x@127.0.0.1:1/${svc}`,
  serviceDbSocketUrl: (svc: string) => `postgres://x@127.0.0.1:1/${svc}?host=%2Fsock`,
  kafkaBrokers: ["127.0.0.1:2"],
};

/** Runs fn with an environment variable set, or unset for undefined (restored after). */
function withEnv<T>(name: string, value: string | undefined, fn: () => T): T {
  const before = Deno.env.get(name);
  if (value === undefined) Deno.env.delete(name);
  else Deno.env.set(name, value);
  try {
    return fn();
  } finally {
    if (before === undefined) Deno.env.delete(name);
    else Deno.env.set(name, before);
  }
}

/** Runs fn with STOCKLET_REPLICAS set (restored after). */
const withReplicas = <T>(value: string, fn: () => T): T => withEnv("STOCKLET_REPLICAS", value, fn);

Deno.test("replicaCount: one number for all, or per service; 1 otherwise; refuses nonsense", () => {
  assert.equal(replicaCount("order", ""), 1);
  assert.equal(replicaCount("order", "2"), 2);
  assert.equal(replicaCount("order", "order=3,payment=2"), 3);
  assert.equal(replicaCount("payment", "order=3, payment=2"), 2);
  assert.equal(replicaCount("shipping", "order=3,payment=2"), 1);
  assert.throws(() => replicaCount("order", "4"), /1 to 3/);
  assert.throws(() => replicaCount("order", "0"), /1 to 3/);
  assert.throws(() => replicaCount("order", "ordr=2"), /service=N/);
  assert.throws(() => replicaCount("order", "order=two"), /1 to 3/);
});

Deno.test("a replica's name, number and ports: the service's + 50 per replica", () => {
  const ports = stackPorts("dev");
  assert.deepEqual(withReplicas("order=3", () => replicasOf("order")), [
    "order",
    "order@1",
    "order@2",
  ]);
  assert.equal(baseOf("order@2"), "order");
  assert.equal(replicaOf("order@2"), 2);
  assert.equal(replicaOf("edge"), 0);
  assert.equal(httpPortOf("order@2", ports), ports.http.order + 2 * REPLICA_PORT_STEP);
  assert.equal(grpcPortOf("order@1", ports), ports.grpc.order + REPLICA_PORT_STEP);
  // Every replica port of every service is distinct from every other port of the stack.
  const all = withReplicas("3", () =>
    SERVICE_NAMES.flatMap(replicasOf).flatMap((a) => [
      httpPortOf(a, ports),
      grpcPortOf(a, ports),
    ]));
  all.push(ports.edge, ports.web, ports.smtp, ports.mailbox);
  assert.equal(new Set(all).size, all.length, "no port is used twice");
});

Deno.test("appEnv: callers get every replica; each replica its own ports and instance id", () => {
  const ports = stackPorts("dev");
  withReplicas("order=2,user=2", () => {
    const edge = appEnv("edge", ports, infra);
    assert.equal(
      edge.ORDER_HTTP_URL,
      `http://127.0.0.1:${ports.http.order},http://127.0.0.1:${ports.http.order + 50}`,
    );
    assert.equal(edge.PAYMENT_HTTP_URL, `http://127.0.0.1:${ports.http.payment}`);
    assert.equal(appEnv("web", ports, infra).ORDER_HTTP_URL, edge.ORDER_HTTP_URL);
    assert.equal(
      appEnv("auth", ports, infra).USER_GRPC_ADDR,
      `127.0.0.1:${ports.grpc.user},127.0.0.1:${ports.grpc.user + 50}`,
    );
    const replica = appEnv("order@1", ports, infra);
    assert.equal(replica.HTTP_PORT, String(ports.http.order + 50));
    assert.equal(replica.GRPC_PORT, String(ports.grpc.order + 50));
    assert.equal(
      replica.DATABASE_URL,
      infra.serviceDbSocketUrl("order"),
      "one database per service, through the socket",
    );
    assert.equal(replica.OTEL_SERVICE_NAME, "order");
    assert.equal(replica.OTEL_RESOURCE_ATTRIBUTES, "service.instance.id=order@1");
  });
});

Deno.test("everyApp covers every replica any setting may start; replicaSpec names them all", () => {
  const every = new Set(everyApp());
  withReplicas("3", () => {
    for (const app of SERVICE_NAMES.flatMap(replicasOf)) assert.ok(every.has(app), app);
  });
  for (const app of ["mail", "web", "edge"] as const) assert.ok(every.has(app));
  assert.equal(
    withReplicas("order=2", () => replicaSpec()),
    SERVICE_NAMES.map((s) => `${s}=${s === "order" ? 2 : 1}`).join(","),
  );
});

/** Runs fn with STOCKLET_BUNDLE set, or unset for undefined (restored after). */
const withBundle = <T>(value: string | undefined, fn: () => T): T =>
  withEnv("STOCKLET_BUNDLE", value, fn);

Deno.test("appArgs: every app but the mail catcher runs its bundle, replicas the same one", () => {
  withBundle(undefined, () => {
    const order = appArgs("order", "test").at(-1)!;
    assert.equal(
      relative(appStateDir("test"), order),
      join("build", "services", "order", "main.js"),
    );
    assert.equal(appArgs("order@1", "test").at(-1), order);
    assert.equal(
      relative(appStateDir("dev"), appArgs("edge", "dev").at(-1)!),
      join("build", "edge", "main.js"),
    );
    assert.equal(appArgs("mail", "test").at(-1), entryOf("mail"));
    assert.equal(bundleFileOf("web", "test"), appArgs("web", "test").at(-1));
  });
});

Deno.test("appArgs: STOCKLET_BUNDLE=off runs every app from its sources", () => {
  withBundle("off", () => {
    for (const app of ["order", "order@1", "edge", "web", "mail"] as const) {
      assert.equal(appArgs(app, "test").at(-1), entryOf(app), app);
    }
  });
});

Deno.test("bundleFileOf: a module's relative resources resolve inside the build tree", () => {
  // The edge reads new URL("../docs/openapi.json", import.meta.url): linked there by buildBundles.
  const edge = pathToFileURL(bundleFileOf("edge", "test"));
  const doc = fileURLToPath(new URL("../docs/openapi.json", edge));
  assert.ok(BUNDLE_RESOURCES.includes(relative(buildDirOf("test"), doc)));
  const web = pathToFileURL(bundleFileOf("web", "test"));
  const statics = fileURLToPath(new URL("./static", web));
  assert.ok(BUNDLE_RESOURCES.includes(relative(buildDirOf("test"), statics)));
});
