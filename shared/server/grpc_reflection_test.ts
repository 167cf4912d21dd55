import assert from "node:assert/strict";
import { create, type DescMessage, fromBinary, type MessageShape } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import {
  ServerReflection,
  type ServerReflectionRequest,
  ServerReflectionRequestSchema,
  type ServerReflectionResponse,
} from "../gen/grpc/reflection/v1/reflection_pb.ts";
import {
  ServerReflection as ServerReflectionV1Alpha,
  ServerReflectionRequestSchema as V1AlphaRequestSchema,
} from "../gen/grpc/reflection/v1alpha/reflection_pb.ts";
import { user } from "../proto.ts";
import { serviceDefinition } from "./grpc_codec.ts";
import { Health } from "./grpc_health.ts";
import {
  REFLECTION_SERVICES,
  reflectionHandler,
  reflectionIndex,
  type ReflectionVersion,
} from "./grpc_reflection.ts";

const SERVED = [user.UserService, user.UserInternalService, Health, ...REFLECTION_SERVICES];

function ask(messageRequest: ServerReflectionRequest["messageRequest"]) {
  return create(ServerReflectionRequestSchema, { messageRequest });
}

function fileNames(res: ReturnType<ReturnType<typeof reflectionIndex>["answer"]>): string[] {
  assert.equal(res.messageResponse.case, "fileDescriptorResponse", JSON.stringify(res));
  const protos = (res.messageResponse.value as { fileDescriptorProto: Uint8Array[] })
    .fileDescriptorProto;
  return protos.map((b) => fromBinary(FileDescriptorProtoSchema, b).name);
}

Deno.test("reflection: lists the served services", () => {
  const res = reflectionIndex(SERVED).answer(ask({ case: "listServices", value: "" }));
  assert.equal(res.messageResponse.case, "listServicesResponse");
  assert.deepEqual(
    (res.messageResponse.value as { service: { name: string }[] }).service.map((s) => s.name),
    [
      "stocklet.user.v1.UserService",
      "stocklet.user.v1.UserInternalService",
      "grpc.health.v1.Health",
      "grpc.reflection.v1.ServerReflection",
      "grpc.reflection.v1alpha.ServerReflection",
    ],
  );
});

Deno.test("reflection: a symbol's file comes first, then every file it depends on, once", () => {
  const index = reflectionIndex(SERVED);
  for (
    const symbol of [
      "stocklet.user.v1.UserService",
      "stocklet.user.v1.UserService.RegisterUser",
      "stocklet.user.v1.RegisterUserRequest",
    ]
  ) {
    const names = fileNames(index.answer(ask({ case: "fileContainingSymbol", value: symbol })));
    assert.equal(names[0], "stocklet/user/v1/user.proto", symbol);
    assert.equal(new Set(names).size, names.length, `no file twice: ${names}`);
    for (const dep of ["google/api/annotations.proto", "buf/validate/validate.proto"]) {
      assert.ok(names.includes(dep), `${symbol}: ${dep} in ${names}`);
    }
  }
  assert.deepEqual(
    fileNames(index.answer(ask({ case: "fileByFilename", value: "grpc/health/v1/health.proto" }))),
    ["grpc/health/v1/health.proto"],
  );
});

Deno.test("reflection: extensions by type and number (google.api.http on MethodOptions)", () => {
  const index = reflectionIndex(SERVED);
  const res = index.answer(ask({
    case: "allExtensionNumbersOfType",
    value: "google.protobuf.MethodOptions",
  }));
  assert.equal(res.messageResponse.case, "allExtensionNumbersResponse");
  const numbers = (res.messageResponse.value as { extensionNumber: number[] }).extensionNumber;
  assert.ok(numbers.includes(72295728), `google.api.http's number in ${numbers}`);
  assert.deepEqual(
    fileNames(index.answer(ask({
      case: "fileContainingExtension",
      value: {
        containingType: "google.protobuf.MethodOptions",
        extensionNumber: 72295728,
      } as never,
    })))[0],
    "google/api/annotations.proto",
  );
});

Deno.test("reflection: what is not there is NOT_FOUND, naming it; an empty request is INVALID_ARGUMENT", () => {
  const index = reflectionIndex(SERVED);
  for (
    const q of [
      { case: "fileContainingSymbol", value: "no.such.Thing" },
      { case: "fileByFilename", value: "no/such.proto" },
      { case: "allExtensionNumbersOfType", value: "no.such.Type" },
    ] as const
  ) {
    const res = index.answer(ask(q));
    assert.equal(res.messageResponse.case, "errorResponse");
    const err = res.messageResponse.value as { errorCode: number; errorMessage: string };
    assert.equal(err.errorCode, grpc.status.NOT_FOUND);
    assert.ok(err.errorMessage.includes(q.value), err.errorMessage);
  }
  const empty = index.answer(ask({ case: undefined }));
  assert.equal(empty.messageResponse.case, "errorResponse");
  assert.equal(
    (empty.messageResponse.value as { errorCode: number }).errorCode,
    grpc.status.INVALID_ARGUMENT,
  );
});

Deno.test("reflection: both versions answer over a real stream, in order, echoing each request", async () => {
  const index = reflectionIndex(SERVED);
  const server = new grpc.Server();
  for (const v of REFLECTION_SERVICES) {
    server.addService(serviceDefinition(v), { serverReflectionInfo: reflectionHandler(index, v) });
  }
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      "127.0.0.1:0",
      grpc.ServerCredentials.createInsecure(),
      (e, p) => e ? reject(e) : resolve(p),
    )
  );
  const stream = (version: ReflectionVersion, requests: MessageShape<DescMessage>[]) => {
    const Client = grpc.makeGenericClientConstructor(serviceDefinition(version) as never, "R");
    const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as
      & grpc.Client
      & { serverReflectionInfo(): grpc.ClientDuplexStream<unknown, ServerReflectionResponse> };
    return new Promise<ServerReflectionResponse[]>((resolve, reject) => {
      const call = client.serverReflectionInfo();
      const got: ServerReflectionResponse[] = [];
      call.on("data", (r) => got.push(r));
      call.on("error", reject);
      call.on("end", () => {
        client.close();
        resolve(got);
      });
      for (const r of requests) call.write(r);
      call.end();
    });
  };
  try {
    const v1 = await stream(ServerReflection, [
      create(ServerReflectionRequestSchema, {
        host: "h",
        messageRequest: { case: "listServices", value: "" },
      }),
      create(ServerReflectionRequestSchema, {
        messageRequest: { case: "fileContainingSymbol", value: "grpc.health.v1.Health" },
      }),
    ]);
    assert.deepEqual(v1.map((r) => r.messageResponse.case), [
      "listServicesResponse",
      "fileDescriptorResponse",
    ]);
    const [listed, health] = v1;
    assert.ok(listed && health);
    assert.equal(listed.validHost, "h");
    assert.equal(listed.originalRequest?.messageRequest.case, "listServices");
    assert.equal(health.originalRequest?.messageRequest.value, "grpc.health.v1.Health");

    const alpha = await stream(ServerReflectionV1Alpha, [
      create(V1AlphaRequestSchema, {
        messageRequest: { case: "fileContainingSymbol", value: "stocklet.user.v1.UserService" },
      }),
    ]);
    const [only, ...rest] = alpha;
    assert.ok(only && rest.length === 0);
    assert.equal(only.$typeName as string, "grpc.reflection.v1alpha.ServerReflectionResponse");
    const files = (only.messageResponse.value as { fileDescriptorProto: Uint8Array[] })
      .fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b).name);
    assert.equal(files[0], "stocklet/user/v1/user.proto");
  } finally {
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  }
});
