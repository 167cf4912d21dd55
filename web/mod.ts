/**
 * `@stocklet/web`: the storefront and admin console (server-rendered Hono JSX, a little
 * JavaScript, live order pages over server-sent events), with its read model of the saga.
 * @module
 */
export { webApp, type WebDeps } from "./app.tsx";
export { loadWebConfig, type WebConfig } from "./config.ts";
export { webReactions } from "./reactions.ts";
