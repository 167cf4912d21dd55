/**
 * `@stocklet/shared`: the service kit every Stocklet service is built on.
 * @module
 */
export * from "./proto.ts";
