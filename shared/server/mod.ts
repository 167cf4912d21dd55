/**
 * The server kit: one handler per RPC, served over gRPC and REST.
 * @module
 */
export { bindService, type CallContext, type ServiceBinding, type ServiceImpl } from "./handler.ts";
export { type GrpcServer, startGrpcServer } from "./grpc.ts";
export {
  type CallOptions,
  type ClientOptions,
  grpcClient,
  type ServiceClient,
} from "./grpc_client.ts";
export { restApp, type RestOptions } from "./rest.ts";
export {
  compareRoutes,
  type CompiledTemplate,
  parseTemplate,
  routesOfService,
  type RouteSpec,
  sortRoutes,
  type TemplateParam,
  type Verb,
} from "./routes.ts";
export { type HttpRoute, routesOf } from "./transcode.ts";
