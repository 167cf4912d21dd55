/**
 * The edge's rules, in one place: the local edge enforces them and the Envoy generator writes them
 * into deploy/envoy/envoy.yaml, so the two doors cannot disagree.
 * @module
 */

/** Largest request body the edge accepts (bytes); larger ones get 413. */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

/** How long the edge waits for an upstream to answer (ms); then 504. */
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 10_000;

/**
 * Request headers that claim an identity. Services never trust them (they verify the bearer token
 * themselves), but the edge drops every client-supplied one so that nothing downstream can be
 * tricked by them either.
 */
export const STRIPPED_REQUEST_HEADERS: readonly string[] = [
  "x-jwt-payload",
  "x-jwt-claims",
  "x-user-id",
  "x-user-roles",
  "x-user-email",
  "x-forwarded-user",
  "x-forwarded-email",
  "x-forwarded-groups",
  "x-remote-user",
  "x-principal",
  "x-roles",
  "x-customer-id",
  "x-admin",
  // Envoy fills it from a login's body for the per-account rate limit; never from the client.
  "x-stocklet-login-account",
];

/** Prefixes of request header names that are dropped as well (e.g. `x-auth-user`). */
export const STRIPPED_REQUEST_HEADER_PREFIXES: readonly string[] = ["x-auth-", "x-jwt-", "x-user-"];

const STRIPPED = new Set(STRIPPED_REQUEST_HEADERS);

/** Whether a (lower-case) request header name is an identity header the edge drops. */
export function isIdentityHeader(name: string): boolean {
  if (STRIPPED.has(name)) return true;
  for (const p of STRIPPED_REQUEST_HEADER_PREFIXES) if (name.startsWith(p)) return true;
  return false;
}

/** The request id header, kept from the client when sane, generated otherwise, and echoed back. */
export const REQUEST_ID_HEADER = "x-request-id";

/** A client request id the edge keeps (anything else is replaced by a fresh UUID). */
export const SANE_REQUEST_ID: RegExp = /^[A-Za-z0-9][A-Za-z0-9._:@+=-]{0,127}$/;

/** CORS: methods a browser front end may use. */
export const CORS_ALLOW_METHODS: readonly string[] = [
  "GET",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "OPTIONS",
];

/** CORS: request headers a browser front end may send. */
export const CORS_ALLOW_HEADERS: readonly string[] = [
  "authorization",
  "content-type",
  "x-request-id",
  "traceparent",
  "tracestate",
];

/** CORS: response headers a browser front end may read. */
export const CORS_EXPOSE_HEADERS: readonly string[] = ["x-request-id", "www-authenticate"];

/** CORS: how long a browser may cache a preflight answer (seconds). */
export const CORS_MAX_AGE_SECONDS = 600;

/** The token scheme of the `Authorization` header (spec B24: clients send `Bearer <jwt>`). */
export const BEARER_PREFIX = "Bearer ";

/** One rate limit: at most `requests` per `windowSeconds` for one key (a token bucket). */
export interface RateLimit {
  requests: number;
  windowSeconds: number;
}

/** The rate limits the edge enforces. */
export type RateLimitName =
  | "address"
  | "login-address"
  | "login-account"
  | "register-address"
  | "order-address";

/**
 * The default limits (`STOCKLET_RATE_LIMITS` overrides them locally). Each is a burst of
 * `requests`, refilled evenly over the window:
 *
 * - `address`: every request, by client address — generous, it only stops floods;
 * - `login-address`, `login-account`: password guessing, from one address or against one account
 *   (the email or user id of the body) — 30 wrong passwords in a row meet 429s after the 10th;
 * - `register-address`: account creation from one address;
 * - `order-address`: order placement from one address.
 */
export const DEFAULT_RATE_LIMITS: Readonly<Record<RateLimitName, RateLimit>> = {
  "address": { requests: 1200, windowSeconds: 60 },
  "login-address": { requests: 30, windowSeconds: 60 },
  "login-account": { requests: 10, windowSeconds: 300 },
  "register-address": { requests: 10, windowSeconds: 600 },
  "order-address": { requests: 120, windowSeconds: 60 },
};

/** The limits each public RPC counts against besides `address` (by full RPC name). */
export const RPC_RATE_LIMITS: Readonly<Record<string, readonly RateLimitName[]>> = {
  "stocklet.auth.v1.AuthService.LoginPassword": ["login-address", "login-account"],
  // Proving the current password is guessing too.
  "stocklet.auth.v1.AuthService.SetPassword": ["login-address"],
  "stocklet.user.v1.UserService.RegisterUser": ["register-address"],
  "stocklet.order.v1.OrderService.PlaceOrder": ["order-address"],
};

/** Every limit an RPC counts against, `address` first. */
export function rateLimitsOf(rpc: string): readonly RateLimitName[] {
  return ["address", ...(RPC_RATE_LIMITS[rpc] ?? [])];
}

/**
 * The request header Envoy's Lua filter fills with the login's account (from the body), for the
 * `login-account` limit. A client's own value is replaced or removed, never trusted.
 */
export const LOGIN_ACCOUNT_HEADER = "x-stocklet-login-account";
