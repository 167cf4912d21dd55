/**
 * The edge's token check, the same rule as Envoy's `jwt_authn` with `allow_missing`: a request
 * without `Authorization` passes (the service decides whether the route needs a user); a request
 * with one must carry a valid bearer token, or it is answered 401 before reaching any service.
 * The header is forwarded untouched: services verify the token again and never trust the edge.
 * @module
 */
import { bearerToken, type TokenVerifier } from "@stocklet/shared/auth";
import { decodeJwt } from "jose";

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
  const size = opts.cacheSize ?? 10_000;
  const ttl = opts.cacheTtlMs ?? 30_000;
  const now = opts.now ?? Date.now;
  /** token → time (ms) it stops being trusted; Map order is insertion order (oldest first). */
  const verified = new Map<string, number>();

  function remember(token: string): void {
    if (size <= 0 || ttl <= 0) return;
    let until = now() + ttl;
    try {
      const { exp } = decodeJwt(token);
      if (typeof exp === "number") until = Math.min(until, exp * 1000);
    } catch {
      return;
    }
    if (verified.size >= size) {
      const oldest = verified.keys().next().value;
      if (oldest !== undefined) verified.delete(oldest);
    }
    verified.set(token, until);
  }

  return {
    async check(authorization: string | null): Promise<void> {
      if (authorization === null) return;
      const token = bearerToken(authorization);
      if (token === undefined) return;
      const until = verified.get(token);
      if (until !== undefined) {
        if (now() < until) return;
        verified.delete(token);
      }
      await opts.verifier.verify(token);
      remember(token);
    },
  };
}
