/**
 * Rate limiting at the edge: token buckets per client address (every route) and, for the routes
 * that guess or create credentials, tighter ones — logins per address and per account (the email
 * or user id in the body), registrations per address, orders per address. A request over a limit
 * is answered 429 with `Retry-After` (whole seconds until the bucket holds a token again) before
 * it reaches any service. The limits themselves live in policy.ts, so the Envoy generator writes
 * the same ones into deploy/envoy/envoy.yaml.
 *
 * @example
 * ```ts
 * const limiter = rateLimiter({ limits: DEFAULT_RATE_LIMITS });
 * const denied = limiter.take([{ limit: "login-account", key: "ann@example.com" }]);
 * if (denied) return tooMany(denied); // 429, Retry-After: denied.retryAfterSeconds
 * ```
 * @module
 */
import { Code, ServiceError } from "@stocklet/shared/errors";
import type { RateLimit, RateLimitName } from "./policy.ts";

/** One bucket a request takes a token from: which limit, and whose (an address, an account). */
export interface RateKey {
  limit: RateLimitName;
  key: string;
}

/** Why a request was refused. */
export interface Denied {
  limit: RateLimitName;
  /** Whole seconds until the bucket holds a token again (at least 1). */
  retryAfterSeconds: number;
}

/** Options for {@linkcode rateLimiter}. */
export interface RateLimiterOptions {
  limits: Readonly<Record<RateLimitName, RateLimit>>;
  /** How many buckets to keep (the least recently used go first). @default 100_000 */
  maxBuckets?: number;
  /** The clock (ms). @default performance.now */
  now?: () => number;
}

/** A set of token buckets. */
export interface RateLimiter {
  /**
   * Takes one token from each bucket, or none at all when any of them is empty.
   * @returns undefined when allowed, else the limit that refused and when to retry.
   */
  take(keys: readonly RateKey[]): Denied | undefined;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets that refill continuously: `requests` tokens at most, `requests` per
 * `windowSeconds`. Buckets are kept in a bounded LRU map: a client pushed out simply starts over
 * with a full bucket.
 */
export function rateLimiter(opts: RateLimiterOptions): RateLimiter {
  const max = opts.maxBuckets ?? 100_000;
  const now = opts.now ?? (() => performance.now());
  const buckets = new Map<string, Bucket>();

  function level(name: RateLimitName, id: string, t: number): { bucket: Bucket; rate: number } {
    const limit = opts.limits[name];
    const rate = limit.requests / (limit.windowSeconds * 1000); // tokens per ms
    let bucket = buckets.get(id);
    if (bucket) {
      buckets.delete(id); // re-inserted below: most recently used last
      bucket.tokens = Math.min(limit.requests, bucket.tokens + (t - bucket.at) * rate);
      bucket.at = t;
    } else {
      bucket = { tokens: limit.requests, at: t };
      if (buckets.size >= max) buckets.delete(buckets.keys().next().value!);
    }
    buckets.set(id, bucket);
    return { bucket, rate };
  }

  return {
    take(keys) {
      const t = now();
      const found = keys.map((k) => level(k.limit, `${k.limit}\u0000${k.key}`, t));
      for (const [i, { bucket, rate }] of found.entries()) {
        if (bucket.tokens < 1) {
          return {
            limit: keys[i]!.limit,
            retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / rate / 1000)),
          };
        }
      }
      for (const { bucket } of found) bucket.tokens -= 1;
      return undefined;
    },
  };
}

const WHAT: Record<RateLimitName, string> = {
  "address": "requests from this address",
  "login-address": "login attempts from this address",
  "login-account": "login attempts for this account",
  "register-address": "registrations from this address",
  "order-address": "orders from this address",
};

/** The error of a refused request: RESOURCE_EXHAUSTED (429), saying which limit and when. */
export function rateLimitedError(denied: Denied): ServiceError {
  return new ServiceError(
    Code.RESOURCE_EXHAUSTED,
    `too many ${WHAT[denied.limit]}; retry in ${denied.retryAfterSeconds} s`,
  );
}

/**
 * The account a login names, from its JSON body (`email`, else `user_id`/`userId`), lower-cased;
 * undefined when the body names none (the service then answers 400 anyway).
 */
export function loginAccountOf(body: Uint8Array | undefined): string | undefined {
  if (!body) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return undefined;
  }
  if (typeof json !== "object" || json === null) return undefined;
  const o = json as Record<string, unknown>;
  const account = o.email ?? o.user_id ?? o.userId;
  return typeof account === "string" && account !== "" ? account.trim().toLowerCase() : undefined;
}

/**
 * Parses `STOCKLET_RATE_LIMITS` overrides: comma-separated `name=requests/seconds` (a trailing
 * `s` allowed), e.g. `login-account=5/60s,address=600/60`.
 *
 * @throws Error naming the bad entry.
 */
export function parseRateLimits(
  text: string,
  defaults: Readonly<Record<RateLimitName, RateLimit>>,
): Record<RateLimitName, RateLimit> {
  const out = { ...defaults };
  for (const part of text.split(",").map((p) => p.trim()).filter(Boolean)) {
    const m = /^([a-z-]+)=(\d+)\/(\d+)s?$/.exec(part);
    if (!m || !(m[1]! in defaults)) {
      throw new Error(
        `"${part}" is not name=requests/seconds with a name among ${
          Object.keys(defaults).join(", ")
        }`,
      );
    }
    const requests = Number(m[2]);
    const windowSeconds = Number(m[3]);
    if (requests < 1 || windowSeconds < 1) throw new Error(`"${part}": both must be at least 1`);
    out[m[1] as RateLimitName] = { requests, windowSeconds };
  }
  return out;
}
