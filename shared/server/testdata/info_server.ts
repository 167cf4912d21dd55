/**
 * A gRPC server for grpc_client_test.ts, in its own process (as a replica would be): it answers
 * UserService.ServiceInfo with the name it was given and prints its port.
 *
 * `deno run -A shared/server/testdata/info_server.ts <name>`
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { user } from "../../proto.ts";
import { deserializer, grpcPath, serializer } from "../grpc_codec.ts";

const name = Deno.args[0] ?? "replica";
const method = user.UserService.method.serviceInfo;
const server = new grpc.Server();
server.register(
  grpcPath(user.UserService, method),
  (_call: unknown, cb: grpc.sendUnaryData<unknown>) =>
    cb(null, { $typeName: method.output.typeName, name, source: "", sourceLicense: "" }),
  serializer(method.output) as (v: unknown) => Buffer,
  deserializer(method.input),
  "unary",
);
server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, port) => {
  if (e) throw e;
  console.log(port);
});
