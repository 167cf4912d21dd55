/**
 * The edge's token check, the same rule as Envoy's `jwt_authn` with `allow_missing`: a request
 * without `Authorization` passes (the service decides whether the route needs a user); a request
 * with one must carry a valid bearer token, or it is answered 401 before reaching any service.
 * The header is forwarded untouched: services verify the token again and never trust the edge.
 * @module
 */
import { bearerToken, cachingVerifier, type TokenVerifier } from "@stocklet/shared/auth";

/** Options for {@linkcode tokenCheck}. */
export interface TokenCheckOptions {
  /** Verifies a token (the auth service's JWKS in production, test keys in tests). */
  verifier: TokenVerifier;
  /** How many verified tokens to remember. @default 10_000 */
  cacheSize?: number;
  /** How long a verified token is remembered at most (ms), never past its `exp`. @default 30_000 */
  cacheTtlMs?: number;
  /** The clock (ms). @default Date.now */
  now?: () => number;
}

/** Checks the `Authorization` header of a request. */
export interface TokenCheck {
  /**
   * Resolves when the header is absent or carries a valid bearer token; rejects with a
   * UNAUTHENTICATED ServiceError saying why otherwise.
   */
  check(authorization: string | null): Promise<void>;
}

/**
 * A token check over a verifier. Verified tokens are remembered (by their exact text, until the
 * earlier of their expiry and the TTL), so a client reusing its token costs one signature check
 * per TTL rather than one per request.
 *
 * @example
 * ```ts
 * const auth = tokenCheck({ verifier: jwksVerifier({ jwks: "http://127.0.0.1:8091/v1/auth/jwks" }) });
 * await auth.check(req.headers.get("authorization")); // throws 401 for a bad token
 * ```
 */
export function tokenCheck(opts: TokenCheckOptions): TokenCheck {
  const verifier = cachingVerifier(opts.verifier, {
    ...(opts.cacheSize !== undefined ? { size: opts.cacheSize } : {}),
    ...(opts.cacheTtlMs !== undefined ? { ttlMs: opts.cacheTtlMs } : {}),
    ...(opts.now !== undefined ? { now: opts.now } : {}),
  });
  return {
    async check(authorization: string | null): Promise<void> {
      if (authorization === null) return;
      const token = bearerToken(authorization);
      if (token === undefined) return;
      await verifier.verify(token);
    },
  };
}
