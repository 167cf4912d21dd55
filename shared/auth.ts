/**
 * Authentication and authorisation. Access tokens are ES256 JWTs issued by the auth service; every
 * service verifies them itself against the auth service's JWKS (cached, refetched on an unknown
 * `kid`), so no identity header a client could forge is ever trusted.
 * @module
 */
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  errors as joseErrors,
  type JSONWebKeySet,
  jwtVerify,
  type JWTVerifyGetKey,
} from "jose";
import { permissionDenied, unauthenticated } from "./errors.ts";

/** The issuer (`iss`) of Stocklet access tokens. */
export const TOKEN_ISSUER = "stocklet-auth";
/** The audience (`aud`) of Stocklet access tokens. */
export const TOKEN_AUDIENCE = "stocklet";
/** The role that may administer the catalogue, stock and balances. */
export const ADMIN_ROLE = "admin";

/** The verified caller. */
export interface Principal {
  userId: string;
  roles: readonly string[];
}

/** Verifies bearer tokens. */
export interface TokenVerifier {
  /** Returns the principal, or throws UNAUTHENTICATED saying why. */
  verify(token: string): Promise<Principal>;
}

/** Options for {@linkcode jwksVerifier}. */
export interface JwksVerifierOptions {
  /** Where the JWKS lives (the auth service's `/v1/auth/jwks`), or a key set in hand. */
  jwks: string | JSONWebKeySet;
  issuer?: string;
  audience?: string;
  /** Allowed clock skew in seconds. @default 5 */
  clockTolerance?: number;
  /** Minimum time between two fetches of a remote set (bounds refetches on unknown kids). @default 5000 */
  cooldownMs?: number;
}

function reasonOf(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return "token expired";
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return "bad signature";
  if (err instanceof joseErrors.JWKSNoMatchingKey) return "unknown signing key";
  if (err instanceof joseErrors.JOSEAlgNotAllowed || err instanceof joseErrors.JOSENotSupported) {
    return "algorithm not allowed";
  }
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `bad ${err.claim} claim`;
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid) {
    return "malformed token";
  }
  if (err instanceof joseErrors.JWKSTimeout) return "key set unavailable";
  return "token rejected";
}

/**
 * A verifier for ES256 tokens against a JWKS. A remote set is cached and refetched when a token
 * names an unknown `kid` (at most once per cooldown).
 */
export function jwksVerifier(opts: JwksVerifierOptions): TokenVerifier {
  const keys: JWTVerifyGetKey = typeof opts.jwks === "string"
    ? createRemoteJWKSet(new URL(opts.jwks), {
      cooldownDuration: opts.cooldownMs ?? 5_000,
      cacheMaxAge: 10 * 60_000,
      timeoutDuration: 3_000,
    })
    : createLocalJWKSet(opts.jwks);
  return {
    async verify(token: string): Promise<Principal> {
      try {
        const { payload } = await jwtVerify(token, keys, {
          algorithms: ["ES256"],
          issuer: opts.issuer ?? TOKEN_ISSUER,
          audience: opts.audience ?? TOKEN_AUDIENCE,
          clockTolerance: opts.clockTolerance ?? 5,
          requiredClaims: ["sub", "exp", "iat"],
        });
        const roles = Array.isArray(payload.roles)
          ? payload.roles.filter((r): r is string => typeof r === "string")
          : [];
        return { userId: payload.sub!, roles };
      } catch (err) {
        throw unauthenticated(`invalid access token: ${reasonOf(err)}`);
      }
    },
  };
}

/** Options for {@linkcode cachingVerifier}. */
export interface CachingVerifierOptions {
  /** How many verified tokens to remember. @default 10_000 */
  size?: number;
  /** How long a verified token is remembered at most (ms), never past its `exp`. @default 30_000 */
  ttlMs?: number;
  /** The clock (ms). @default Date.now */
  now?: () => number;
}

/**
 * Remembers verified tokens (by their exact text, until the earlier of their expiry and the TTL),
 * so a client reusing its token costs one ES256 check (about 1 ms of CPU) per TTL rather than one
 * per request. Only successes are remembered; a failure is checked again every time.
 *
 * @example
 * ```ts
 * const verifier = cachingVerifier(jwksVerifier({ jwks: "http://127.0.0.1:8091/v1/auth/jwks" }));
 * ```
 */
export function cachingVerifier(
  inner: TokenVerifier,
  opts: CachingVerifierOptions = {},
): TokenVerifier {
  const size = opts.size ?? 10_000;
  const ttl = opts.ttlMs ?? 30_000;
  const now = opts.now ?? Date.now;
  /** token → [principal, time (ms) it stops being trusted]; Map order is insertion order. */
  const verified = new Map<string, [Principal, number]>();
  return {
    async verify(token: string): Promise<Principal> {
      const hit = verified.get(token);
      if (hit) {
        if (now() < hit[1]) return hit[0];
        verified.delete(token);
      }
      const principal = await inner.verify(token);
      if (size > 0 && ttl > 0) {
        let until = now() + ttl;
        try {
          const { exp } = decodeJwt(token);
          if (typeof exp === "number") until = Math.min(until, exp * 1000);
        } catch {
          return principal;
        }
        if (verified.size >= size) {
          const oldest = verified.keys().next().value;
          if (oldest !== undefined) verified.delete(oldest);
        }
        verified.set(token, [principal, until]);
      }
      return principal;
    },
  };
}

/** The token of an `Authorization: Bearer <token>` value; undefined when absent, 401 if malformed. */
export function bearerToken(authorization: string | null | undefined): string | undefined {
  if (authorization === null || authorization === undefined || authorization === "") {
    return undefined;
  }
  const m = /^Bearer[ ]+([A-Za-z0-9._~+/=-]+)$/i.exec(authorization.trim());
  if (!m) throw unauthenticated("Authorization must be `Bearer <token>`");
  return m[1];
}

/** Whether the principal has the admin role. */
export function isAdmin(p: Principal | null | undefined): boolean {
  return !!p && p.roles.includes(ADMIN_ROLE);
}

/** The caller, or 401 when the call carries no valid token. */
export function requireUser(p: Principal | null | undefined): Principal {
  if (!p) throw unauthenticated();
  return p;
}

/** The caller if an admin: 401 without a token, 403 for anyone else. */
export function requireAdmin(p: Principal | null | undefined): Principal {
  const user = requireUser(p);
  if (!isAdmin(user)) throw permissionDenied("admin role required");
  return user;
}

/** The caller if it is ownerId or an admin: 401 without a token, 403 for anyone else. */
export function requireOwnerOrAdmin(p: Principal | null | undefined, ownerId: string): Principal {
  const user = requireUser(p);
  if (user.userId !== ownerId && !isAdmin(user)) throw permissionDenied();
  return user;
}
