import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  HealthCheckRequestSchema,
  type HealthCheckResponse,
  HealthCheckResponse_ServingStatus as Status,
} from "../gen/grpc/health/v1/health_pb.ts";
import { startGrpcServer } from "./grpc.ts";
import { serviceDefinition } from "./grpc_codec.ts";
import { Health } from "./grpc_health.ts";

Deno.test("gRPC server: health watchers hear NOT_SERVING, and close() ends their calls instead of waiting out its grace", async () => {
  const server = await startGrpcServer({ bindings: [], port: 0 });
  const Client = grpc.makeGenericClientConstructor(serviceDefinition(Health) as never, "Health");
  const client = new Client(
    `127.0.0.1:${server.port}`,
    grpc.credentials.createInsecure(),
  ) as unknown as grpc.Client & {
    watch(req: unknown): grpc.ClientReadableStream<HealthCheckResponse>;
  };
  try {
    const seen: Status[] = [];
    let endedEarly = false;
    const call = client.watch(create(HealthCheckRequestSchema, { service: "" }));
    const ended = new Promise<grpc.StatusObject>((resolve) =>
      call.on("status", (s: grpc.StatusObject) => {
        endedEarly = true;
        resolve(s);
      })
    );
    call.on("data", (r: HealthCheckResponse) => seen.push(r.status));
    call.on("error", () => {});
    while (seen.length < 1) await new Promise((r) => setTimeout(r, 5));
    server.setServing(false);
    while (seen.length < 2) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(seen, [Status.SERVING, Status.NOT_SERVING]);
    assert.equal(endedEarly, false, "setServing(false) alone does not end a watch");

    const t0 = performance.now();
    await server.close(10_000);
    assert.ok(performance.now() - t0 < 5_000, "close did not wait for the watch until it forced");
    assert.equal((await ended).code, grpc.status.OK);
  } finally {
    client.close();
  }
});
