/**
 * The session cookie's token, checked. A token the verifier refuses (bad, expired, revoked) ends the
 * session; a verifier that cannot tell right now (the auth service's keys not loaded yet, or not
 * reachable for a moment) does not: the check is tried again for a short while, and if it still
 * cannot tell, the cookie is kept for the next request. Logging a person out because a key fetch
 * was slow would lose their session for nothing.
 *
 * {@linkcode SessionChecker} waits only at the start of an outage: once a check has waited in vain,
 * the next ones try once until the verifier decides again, so that every signed-in page does not
 * stall for the whole wait while the auth service is down.
 * @module
 */
import type { Principal, TokenVerifier } from "@stocklet/shared/auth";
import { Code, ServiceError } from "@stocklet/shared/errors";

/** What checking a session token found. */
export type SessionCheck =
  | { kind: "valid"; principal: Principal }
  /** The token is no good: the cookie should go. */
  | { kind: "refused"; reason: string }
  /** Nothing could be decided (keys unavailable): keep the cookie, treat this request as anonymous. */
  | { kind: "undecided"; reason: string };

/** Options for {@linkcode checkSession}. */
export interface CheckSessionOptions {
  /** How long to keep trying while the verifier cannot decide (ms). @default 3_000 */
  waitMs?: number;
  /** Pause between tries (ms). @default 250 */
  pauseMs?: number;
}

/**
 * Verifies a session token, waiting out a verifier that is momentarily unable to decide.
 *
 * @example
 * ```ts
 * const check = await checkSession(verifier, token);
 * if (check.kind === "refused") deleteCookie(c, SESSION_COOKIE);
 * ```
 */
export async function checkSession(
  verifier: TokenVerifier,
  token: string,
  opts: CheckSessionOptions = {},
): Promise<SessionCheck> {
  const deadline = Date.now() + (opts.waitMs ?? 3_000);
  const pauseMs = opts.pauseMs ?? 250;
  for (;;) {
    try {
      return { kind: "valid", principal: await verifier.verify(token) };
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      const undecided = err instanceof ServiceError && err.code === Code.UNAVAILABLE;
      if (!undecided) return { kind: "refused", reason };
      if (Date.now() + pauseMs > deadline) return { kind: "undecided", reason };
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
}

/**
 * {@linkcode checkSession} for one verifier, remembering an outage: after a check that waited and
 * still could not decide, checks try once (no wait) until one decides again.
 *
 * @example
 * ```ts
 * const sessions = new SessionChecker(verifier);
 * const check = await sessions.check(token); // waits up to 3 s only at an outage's start
 * if (sessions.outageSince) log.warn("keys unavailable since {since}", { since: sessions.outageSince });
 * ```
 */
export class SessionChecker {
  #outageSince: Date | undefined;

  constructor(readonly verifier: TokenVerifier, readonly opts: CheckSessionOptions = {}) {}

  /** When the verifier was first found unable to decide, while it still is. */
  get outageSince(): Date | undefined {
    return this.#outageSince;
  }

  /** Checks a session token; waits for an undecided verifier only when no outage is known. */
  async check(token: string): Promise<SessionCheck> {
    const waitMs = this.#outageSince ? 0 : this.opts.waitMs;
    const result = await checkSession(this.verifier, token, {
      ...this.opts,
      ...(waitMs !== undefined ? { waitMs } : {}),
    });
    if (result.kind === "undecided") this.#outageSince ??= new Date();
    else this.#outageSince = undefined;
    return result;
  }
}
