import assert from "node:assert/strict";
import { create, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  HealthCheckRequestSchema,
  type HealthCheckResponse,
  HealthCheckResponse_ServingStatus as Status,
  HealthListRequestSchema,
  type HealthListResponse,
} from "../gen/grpc/health/v1/health_pb.ts";
import { serviceDefinition } from "./grpc_codec.ts";
import { Health, healthService } from "./grpc_health.ts";

type AnyMessage = MessageShape<DescMessage>;
type Callback<T> = (err: grpc.ServiceError | null, res: T) => void;

/** The calls of a grpc-js client of `grpc.health.v1.Health`. */
interface HealthClient extends grpc.Client {
  check(req: AnyMessage, cb: Callback<HealthCheckResponse>): unknown;
  list(req: AnyMessage, cb: Callback<HealthListResponse>): unknown;
  watch(req: AnyMessage): grpc.ClientReadableStream<HealthCheckResponse>;
}

/** A real grpc-js server with the health service, and a client of it. */
async function serve(initial: Parameters<typeof healthService>[0]) {
  const health = healthService(initial);
  const server = new grpc.Server();
  server.addService(serviceDefinition(Health), health.implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      "127.0.0.1:0",
      grpc.ServerCredentials.createInsecure(),
      (e, p) => e ? reject(e) : resolve(p),
    )
  );
  const Client = grpc.makeGenericClientConstructor(serviceDefinition(Health) as never, "Health");
  const client = new Client(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
  ) as unknown as HealthClient;
  const settle =
    <T>(resolve: (v: T) => void, reject: (e: unknown) => void): Callback<T> => (err, res) =>
      err ? reject(err) : resolve(res);
  return {
    health,
    client,
    check: (service: string) =>
      new Promise<HealthCheckResponse>((resolve, reject) =>
        client.check(create(HealthCheckRequestSchema, { service }), settle(resolve, reject))
      ),
    list: () =>
      new Promise<HealthListResponse>((resolve, reject) =>
        client.list(create(HealthListRequestSchema), settle(resolve, reject))
      ),
    async close() {
      client.close();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },
  };
}

Deno.test("health: Check answers a known service's status, NOT_FOUND for an unknown one", async () => {
  const s = await serve({ "": "SERVING", "stocklet.user.v1.UserService": "SERVING" });
  try {
    assert.equal((await s.check("")).status, Status.SERVING);
    assert.equal((await s.check("stocklet.user.v1.UserService")).status, Status.SERVING);
    await assert.rejects(s.check("no.such.Service"), (e: grpc.ServiceError) => {
      assert.equal(e.code, grpc.status.NOT_FOUND);
      assert.match(e.details, /no\.such\.Service/);
      return true;
    });
    s.health.setStatus("", "NOT_SERVING");
    assert.equal((await s.check("")).status, Status.NOT_SERVING);
  } finally {
    await s.close();
  }
});

Deno.test("health: List gives every status", async () => {
  const s = await serve({ "": "SERVING", "a.A": "SERVING" });
  try {
    s.health.setStatus("a.A", "NOT_SERVING");
    const all = (await s.list()).statuses;
    assert.deepEqual(
      Object.fromEntries(Object.entries(all).map(([k, v]) => [k, v.status])),
      { "": Status.SERVING, "a.A": Status.NOT_SERVING },
    );
  } finally {
    await s.close();
  }
});

Deno.test("health: Watch sends the status at once and on every change, SERVICE_UNKNOWN without ending; endWatches ends them", async () => {
  const s = await serve({ "": "SERVING" });
  try {
    const names = ["", "later.L"] as const;
    const seen: Record<typeof names[number], Status[]> = { "": [], "later.L": [] };
    const ended: Record<typeof names[number], boolean> = { "": false, "later.L": false };
    const calls = names.map((service) => {
      const call = s.client.watch(create(HealthCheckRequestSchema, { service }));
      call.on("data", (r: HealthCheckResponse) => seen[service].push(r.status));
      call.on("status", (st: grpc.StatusObject) => {
        if (st.code === grpc.status.OK) ended[service] = true;
      });
      call.on("error", () => {});
      return call;
    });
    const until = async (ok: () => boolean): Promise<void> => {
      for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
      assert.ok(ok(), `watch saw ${JSON.stringify(seen)}, ended ${JSON.stringify(ended)}`);
    };
    await until(() => seen[""].length === 1 && seen["later.L"].length === 1);
    assert.deepEqual(seen, { "": [Status.SERVING], "later.L": [Status.SERVICE_UNKNOWN] });

    s.health.setStatus("", "SERVING"); // no change: nothing sent
    s.health.setStatus("", "NOT_SERVING");
    s.health.setStatus("later.L", "SERVING");
    await until(() => seen[""].length === 2 && seen["later.L"].length === 2);
    assert.deepEqual(seen, {
      "": [Status.SERVING, Status.NOT_SERVING],
      "later.L": [Status.SERVICE_UNKNOWN, Status.SERVING],
    });
    assert.deepEqual(ended, { "": false, "later.L": false });

    s.health.endWatches();
    await until(() => ended[""] && ended["later.L"]);
    for (const c of calls) c.cancel();
  } finally {
    await s.close();
  }
});
