/**
 * `@stocklet/edge`: the one door to Stocklet. The local edge (a Deno proxy) and the deployment's
 * Envoy are generated from the same route table and rules.
 *
 * @example
 * ```ts
 * import { loadEdgeConfig, startEdge } from "@stocklet/edge";
 * const edge = await startEdge(loadEdgeConfig());
 * ```
 * @module
 */
export { ACCESS, type Access, accessOf } from "./access.ts";
export { type AccessEntry, type AccessLog, accessLog } from "./access_log.ts";
export { type EdgeHandler, edgeHandler, type EdgeOptions } from "./app.ts";
export { type TokenCheck, tokenCheck, type TokenCheckOptions } from "./auth.ts";
export { type EdgeConfig, loadEdgeConfig, upstreamVar } from "./config.ts";
export { type Cors, corsFor } from "./cors.ts";
export { DOCS_PATH, docsHandler, type DocsOptions, OPENAPI_PATH } from "./docs.ts";
export { EdgeError } from "./errors.ts";
export {
  envoyConfig,
  type EnvoyOptions,
  RATE_LIMIT_RUNTIME_KEY,
  renderEnvoyYaml,
} from "./envoy.ts";
export { openApiDocument, type OpenApiOptions, renderOpenApi } from "./openapi.ts";
export * from "./policy.ts";
export { commentsOf } from "./proto_comments.ts";
export { type EdgeRoute, edgeRoutes, type Router, routerOf, type Verb } from "./routes.ts";
export { OPENAPI_FILE, type RunningEdge, startEdge, type StartEdgeOptions } from "./server.ts";
