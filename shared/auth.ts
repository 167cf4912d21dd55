/**
 * Authentication and authorisation. Access tokens are ES256 JWTs issued by the auth service; every
 * service verifies them itself against the auth service's JWKS, so no identity header a client
 * could forge is ever trusted.
 *
 * The verifier keeps what the auth service publishes:
 * - the key set (`/v1/auth/jwks`: the current key and the previous ones whose tokens may still
 *   live), refreshed every few minutes and at once when a token names an unknown `kid`. While a
 *   refresh fails it keeps the last good set; a verifier that never had one answers 503
 *   (UNAVAILABLE), not 401, because the token may well be fine;
 * - the revocation list (`/v1/auth/revocations`, next to the JWKS): the credentials replaced by a
 *   password change. A token carries its credential version (`cv`), so a token issued before the
 *   change is refused within seconds of it. The list names credentials by an opaque hash
 *   ({@linkcode revocationId}), so it reveals nothing about whom it lists.
 * @module
 */
import { createHash } from "node:crypto";
import {
  createLocalJWKSet,
  decodeJwt,
  errors as joseErrors,
  type JSONWebKeySet,
  jwtVerify,
  type JWTVerifyGetKey,
} from "jose";
import { Code, permissionDenied, ServiceError, unauthenticated } from "./errors.ts";
import { getLog } from "./logging.ts";

const log = getLog("auth");

/** The issuer (`iss`) of Stocklet access tokens. */
export const TOKEN_ISSUER = "stocklet-auth";
/** The audience (`aud`) of Stocklet access tokens. */
export const TOKEN_AUDIENCE = "stocklet";
/** The role that may administer the catalogue, stock and balances. */
export const ADMIN_ROLE = "admin";
/**
 * The longest a verifier keeps a key set before refreshing it (ours: 300 s; Envoy's
 * `cache_duration`). A new signing key is published at least twice this long before it signs.
 */
export const JWKS_MAX_AGE_SECONDS = 300;

/** The claim holding the credential version the token was issued for. */
export const CREDENTIAL_CLAIM = "cv";

/** The verified caller. */
export interface Principal {
  userId: string;
  roles: readonly string[];
  /** The credential version the token was issued for ("" for tokens without one). */
  credentialVersion?: string;
}

/** Verifies bearer tokens. */
export interface TokenVerifier {
  /** Returns the principal, or throws UNAUTHENTICATED (401) saying why, or UNAVAILABLE (503). */
  verify(token: string): Promise<Principal>;
  /**
   * Re-applies the checks that can change during a token's life (revocation) to a principal
   * verified earlier: throws UNAUTHENTICATED when it no longer holds. Caches call it on a hit.
   */
  recheck?(principal: Principal): void;
}

/**
 * The id under which a replaced credential is published: base64url of SHA-256 over the user id
 * and the credential version, cut to 128 bits.
 *
 * @example
 * ```ts
 * revocationId("0190…", "9f2c…"); // "q8Jw…" (22 characters)
 * ```
 */
export function revocationId(userId: string, credentialVersion: string): string {
  return createHash("sha256").update(`${userId}\n${credentialVersion}`).digest("base64url")
    .slice(0, 22);
}

/** How often a source that failed is tried again (at most). */
const RETRY_MS = 1_000;

/** How long a verification waits for a stale revocation list to be refreshed. */
const REVOCATIONS_WAIT_MS = 250;

/** Where a verifier gets what the auth service publishes: a URL, or a loader in process. */
export type Source<T> = string | (() => Promise<T>);

/** Options for {@linkcode jwksVerifier}. */
export interface JwksVerifierOptions {
  /**
   * The key set: the auth service's `/v1/auth/jwks` URL, a loader (the auth service itself), or a
   * fixed set in hand (tests).
   */
  jwks: Source<JSONWebKeySet> | JSONWebKeySet;
  /**
   * The revocation list (ids of {@linkcode revocationId}): a URL, a loader, or false for none.
   * @default for a JWKS URL, `revocations` beside it (`…/v1/auth/revocations`); otherwise none
   */
  revocations?: Source<readonly string[]> | false;
  issuer?: string;
  audience?: string;
  /** Allowed clock skew in seconds. @default 5 */
  clockTolerance?: number;
  /** Minimum time between two fetches of the key set (bounds refetches on unknown kids). @default 5000 */
  cooldownMs?: number;
  /** How old the key set may get before it is refreshed (in the background). @default JWKS_MAX_AGE_SECONDS */
  keysMaxAgeMs?: number;
  /** How old the revocation list may get before it is refreshed (in the background). @default 5000 */
  revocationsMaxAgeMs?: number;
  /** Timeout of one fetch. @default 3000 */
  timeoutMs?: number;
  /** The clock (ms). @default Date.now */
  now?: () => number;
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
  return "token rejected";
}

async function fetchJson(url: string, timeoutMs: number): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`${url} answered ${res.status}`);
  }
  return await res.json();
}

function loaderOf<T>(source: Source<T>, timeoutMs: number, parse: (json: unknown) => T) {
  return typeof source === "string"
    ? async () => parse(await fetchJson(source, timeoutMs))
    : source;
}

function parseKeySet(json: unknown): JSONWebKeySet {
  const keys = (json as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new Error("not a non-empty key set");
  return { keys } as JSONWebKeySet;
}

function parseRevocations(json: unknown): string[] {
  const revoked = (json as { revoked?: unknown } | null)?.revoked ?? [];
  if (!Array.isArray(revoked) || revoked.some((r) => typeof r !== "string")) {
    throw new Error("not a revocation list");
  }
  return revoked as string[];
}

/**
 * The last good copy of something the auth service publishes: loaded on first use (callers wait),
 * refreshed in the background once older than `maxAgeMs` (callers go on with the copy in hand),
 * kept while a refresh fails.
 */
class Published<T> {
  #value: T | undefined;
  #loadedAt = -Infinity;
  #attemptedAt = -Infinity;
  #inflight: Promise<void> | undefined;
  #failing = false;

  constructor(
    readonly what: string,
    readonly load: () => Promise<T>,
    readonly maxAgeMs: number,
    readonly now: () => number,
  ) {}

  get value(): T | undefined {
    return this.#value;
  }

  /** Milliseconds since the last attempt to load. */
  sinceAttempt(): number {
    return this.now() - this.#attemptedAt;
  }

  /** Loads now (joining a load in flight); never throws. */
  refresh(): Promise<void> {
    this.#attemptedAt = this.now();
    return this.#inflight ??= this.load().then((v) => {
      this.#value = v;
      this.#loadedAt = this.now();
      if (this.#failing) log.info("{what} refreshed again", { what: this.what });
      this.#failing = false;
    }, (error) => {
      if (!this.#failing) {
        log.warn("could not refresh {what}; keeping the last good copy: {error}", {
          what: this.what,
          error: error instanceof Error ? error.message : String(error),
        });
      }
      this.#failing = true;
    }).finally(() => {
      this.#inflight = undefined;
    });
  }

  /**
   * The current copy. Without one yet, waits for a load (joining one in flight; a source that just
   * failed is tried again at most once a second, the caller gets undefined meanwhile). A stale one
   * is refreshed, waiting for it at most `waitMs` (then going on with the copy in hand while the
   * refresh completes in the background).
   */
  async current(waitMs = 0): Promise<T | undefined> {
    const pending = this.#inflight ??
      (this.sinceAttempt() >= RETRY_MS ? undefined : null);
    if (this.#value === undefined) {
      if (pending !== null) await (pending ?? this.refresh());
    } else if (this.now() - this.#loadedAt > this.maxAgeMs && pending !== null) {
      const refreshing = pending ?? this.refresh();
      if (waitMs > 0) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          refreshing,
          new Promise((resolve) => timer = setTimeout(resolve, waitMs)),
        ]);
        clearTimeout(timer);
      }
    }
    return this.#value;
  }
}

/**
 * A verifier for ES256 tokens against the auth service's published keys and revocations (see the
 * module doc for how both are kept).
 *
 * @example
 * ```ts
 * const verifier = jwksVerifier({ jwks: "http://127.0.0.1:8091/v1/auth/jwks" });
 * const principal = await verifier.verify(token); // 401 for a bad token, 503 without keys
 * ```
 */
export function jwksVerifier(opts: JwksVerifierOptions): TokenVerifier {
  const now = opts.now ?? Date.now;
  const timeoutMs = opts.timeoutMs ?? 3_000;
  const cooldownMs = opts.cooldownMs ?? 5_000;
  const source = opts.jwks;
  const fixed = typeof source === "object" ? source : undefined;
  const keys = fixed ? undefined : new Published<{ set: JSONWebKeySet; getKey: JWTVerifyGetKey }>(
    "the token keys",
    async () => {
      const set = await loaderOf(source as Source<JSONWebKeySet>, timeoutMs, parseKeySet)();
      return { set, getKey: createLocalJWKSet(set) };
    },
    opts.keysMaxAgeMs ?? JWKS_MAX_AGE_SECONDS * 1000,
    now,
  );
  const fixedKeys = fixed ? createLocalJWKSet(fixed) : undefined;
  const revocationSource = opts.revocations ??
    (typeof source === "string" ? new URL("revocations", source).toString() : false);
  const revocations = revocationSource === false ? undefined : new Published<ReadonlySet<string>>(
    "the revocation list",
    async () => new Set(await loaderOf(revocationSource, timeoutMs, parseRevocations)()),
    opts.revocationsMaxAgeMs ?? 5_000,
    now,
  );

  const getKey: JWTVerifyGetKey = async (header, token) => {
    if (fixedKeys) return await fixedKeys(header, token);
    const published = await keys!.current();
    if (!published) {
      throw new ServiceError(
        Code.UNAVAILABLE,
        "cannot verify access tokens yet: the token keys are unavailable",
      );
    }
    try {
      return await published.getKey(header, token);
    } catch (err) {
      // A rotated key: refetch once per cooldown, then look again.
      if (!(err instanceof joseErrors.JWKSNoMatchingKey) || keys!.sinceAttempt() < cooldownMs) {
        throw err;
      }
      await keys!.refresh();
      return await keys!.value!.getKey(header, token);
    }
  };

  function isRevoked(p: Principal): boolean {
    const ids = revocations?.value;
    return !!ids && ids.size > 0 && ids.has(revocationId(p.userId, p.credentialVersion ?? ""));
  }

  const revoked = () => unauthenticated("invalid access token: revoked (the password changed)");

  return {
    async verify(token: string): Promise<Principal> {
      let principal: Principal;
      try {
        const { payload } = await jwtVerify(token, getKey, {
          algorithms: ["ES256"],
          issuer: opts.issuer ?? TOKEN_ISSUER,
          audience: opts.audience ?? TOKEN_AUDIENCE,
          clockTolerance: opts.clockTolerance ?? 5,
          requiredClaims: ["sub", "exp", "iat"],
        });
        const roles = Array.isArray(payload.roles)
          ? payload.roles.filter((r): r is string => typeof r === "string")
          : [];
        const cv = payload[CREDENTIAL_CLAIM];
        principal = {
          userId: payload.sub!,
          roles,
          ...(typeof cv === "string" ? { credentialVersion: cv } : {}),
        };
      } catch (err) {
        if (err instanceof ServiceError) throw err;
        throw unauthenticated(`invalid access token: ${reasonOf(err)}`);
      }
      // The list is best effort: without one yet (auth unreachable), tokens are not refused. A
      // stale one is refreshed, waiting briefly for it, so a revocation applies at once.
      await revocations?.current(REVOCATIONS_WAIT_MS);
      if (isRevoked(principal)) throw revoked();
      return principal;
    },
    recheck(principal: Principal): void {
      void revocations?.current();
      if (isRevoked(principal)) throw revoked();
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
 * per request. Only successes are remembered; a failure is checked again every time. A hit is
 * still rechecked against the revocation list (`inner.recheck`).
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
  const recheck = inner.recheck?.bind(inner);
  return {
    async verify(token: string): Promise<Principal> {
      const hit = verified.get(token);
      if (hit) {
        if (now() < hit[1]) {
          recheck?.(hit[0]);
          return hit[0];
        }
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
    ...(recheck ? { recheck } : {}),
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
