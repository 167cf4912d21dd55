/**
 * The auth API: the JWKS, the revocation list, password login and password change. Credentials
 * live in the user service; auth asks it over gRPC (UserInternalService) and only signs tokens.
 * @module
 */
import { jwksVerifier, requireUser, revocationId, type TokenVerifier } from "@stocklet/shared/auth";
import { Code, permissionDenied, ServiceError, unauthenticated } from "@stocklet/shared/errors";
import { auth, type user } from "@stocklet/shared/proto";
import { bindService, type ServiceBinding, type ServiceClient } from "@stocklet/shared/server";
import { serviceInfo } from "@stocklet/shared/service_info";
import type { Keys } from "./key_ring.ts";
import { DEFAULT_TTL_SECONDS, issueToken } from "./tokens.ts";

/** The calls auth makes to the user service (a gRPC client, or a fake in tests). */
export type CredentialStore = Pick<
  ServiceClient<typeof user.UserInternalService>,
  "verifyCredentials" | "changePassword" | "listRevokedCredentials"
>;

/** What the auth handlers need. */
export interface AuthDeps {
  keys: Keys;
  users: CredentialStore;
  /** Token lifetime in seconds. @default DEFAULT_TTL_SECONDS */
  ttlSeconds?: number;
  /** How long one fetched revocation list is served (every verifier polls it). @default 1000 */
  revocationsCacheMs?: number;
}

/**
 * Password changes made through this process, per credential store: a change makes every cached
 * revocation list of that store stale at once, so auth itself refuses a replaced token from the
 * moment the change commits (other verifiers learn of it within their polling interval).
 */
const passwordChanges = new WeakMap<object, number>();

/**
 * The revocation list: the ids of every credential replaced while tokens issued for it may live,
 * fetched from the user service at most once per `cacheMs`.
 */
export function revocationList(
  users: Pick<CredentialStore, "listRevokedCredentials">,
  ttlSeconds: number,
  cacheMs = 1_000,
): () => Promise<string[]> {
  let cached: { at: number; changes: number; ids: Promise<string[]> } | undefined;
  return () => {
    const changes = passwordChanges.get(users) ?? 0;
    if (cached && cached.changes === changes && Date.now() - cached.at < cacheMs) {
      return cached.ids;
    }
    const ids = users.listRevokedCredentials({ maxAgeSeconds: ttlSeconds + 60 }).then(
      (res) => res.revoked.map((r) => revocationId(r.userId, r.credentialVersion)),
    );
    cached = { at: Date.now(), changes, ids };
    ids.catch(() => {
      if (cached?.ids === ids) cached = undefined;
    });
    return ids;
  };
}

/**
 * How auth checks the tokens of its own protected route (SetPassword): against what it publishes,
 * read in process rather than over HTTP from itself, revocations included.
 */
export function authVerifier(
  keys: Keys,
  users: Pick<CredentialStore, "listRevokedCredentials">,
  ttlSeconds: number = DEFAULT_TTL_SECONDS,
): TokenVerifier {
  return jwksVerifier({
    jwks: () => Promise.resolve({ keys: keys.published().map((k) => ({ ...k })) }),
    revocations: revocationList(users, ttlSeconds),
    // The list above keeps its own cache, which a password change here empties: read it each time.
    revocationsMaxAgeMs: 0,
  });
}

/**
 * Deadline of the calls that run scrypt in the user service: at OWASP's cost one takes about
 * 0.3 s of CPU, and a burst of logins queues on its thread pool.
 */
const CREDENTIAL_CALL_TIMEOUT_MS = 25_000;

/** Codes meaning "the user service could not answer": the caller may retry later (503). */
const UNREACHABLE: ReadonlySet<number> = new Set([
  Code.UNAVAILABLE,
  Code.DEADLINE_EXCEEDED,
  Code.CANCELLED,
  Code.RESOURCE_EXHAUSTED,
]);

/**
 * Translates a failed user-service call: the expected codes to the given errors, an unreachable
 * service to UNAVAILABLE, anything else to INTERNAL (its message stays in the logs, not the answer).
 */
function fromUserService(
  err: unknown,
  expected: Partial<Record<number, (e: ServiceError) => ServiceError>>,
): ServiceError {
  if (!(err instanceof ServiceError)) {
    return new ServiceError(Code.INTERNAL, "internal error", [], err);
  }
  const mapped = expected[err.code];
  if (mapped) return mapped(err);
  if (UNREACHABLE.has(err.code)) {
    return new ServiceError(Code.UNAVAILABLE, "user service unavailable", [], err);
  }
  return new ServiceError(Code.INTERNAL, "internal error", [], err);
}

/** The AuthService handlers. */
export function authRpc(deps: AuthDeps): ServiceBinding {
  const { keys, users } = deps;
  const ttlSeconds = deps.ttlSeconds ?? DEFAULT_TTL_SECONDS;
  const revoked = revocationList(users, ttlSeconds, deps.revocationsCacheMs);
  return bindService(auth.AuthService, {
    serviceInfo: () => Promise.resolve(serviceInfo("auth")),

    getJwks: () => Promise.resolve({ keys: [...keys.published()] }),

    async getRevocations() {
      const ids = await revoked().catch((err) => {
        throw fromUserService(err, {});
      });
      return { revoked: ids };
    },

    async loginPassword(req) {
      const identity = await users.verifyCredentials({
        identity: req.identity,
        password: req.password,
      }, { timeoutMs: CREDENTIAL_CALL_TIMEOUT_MS }).catch((err) => {
        throw fromUserService(err, {
          // 401, not the seed's 403 (B22): the credentials are wrong, not the permissions.
          [Code.UNAUTHENTICATED]: (e) => unauthenticated(e.message),
          [Code.INVALID_ARGUMENT]: (e) => e,
        });
      });
      const token = await issueToken(keys.signing(), identity, { ttlSeconds });
      return {
        detail: "Success",
        data: { tokenType: "Bearer", accessToken: token.accessToken, expiresIn: token.expiresIn },
      };
    },

    async setPassword(req, ctx) {
      // Only ever the caller's own password: the user id comes from the verified token.
      const caller = requireUser(ctx.principal);
      await users.changePassword({
        userId: caller.userId,
        currentPassword: req.currentPassword,
        newPassword: req.newPassword,
      }, { timeoutMs: CREDENTIAL_CALL_TIMEOUT_MS }).then(() => {
        passwordChanges.set(users, (passwordChanges.get(users) ?? 0) + 1);
      }, (err) => {
        throw fromUserService(err, {
          // 403, not 401: the caller is authenticated (a client should not log them out), it
          // just failed to prove it knows the current password.
          [Code.PERMISSION_DENIED]: () => permissionDenied("current password is incorrect"),
          [Code.NOT_FOUND]: () => unauthenticated("the token's user no longer exists"),
          [Code.ABORTED]: (e) => e,
          [Code.INVALID_ARGUMENT]: (e) => e,
        });
      });
      return { detail: "Successfully updated password" };
    },
  });
}
