import assert from "node:assert/strict";
import type { Principal, TokenVerifier } from "@stocklet/shared/auth";
import { Code, ServiceError } from "@stocklet/shared/errors";
import { checkSession, SessionChecker } from "./session.ts";

const alice: Principal = { userId: "u-1", roles: [] };

/** A verifier answering from a script: an error to throw, or the principal. */
function scripted(answers: Array<Error | Principal>): TokenVerifier & { calls: number } {
  const v = {
    calls: 0,
    verify(_token: string): Promise<Principal> {
      const a = answers[Math.min(v.calls++, answers.length - 1)]!;
      return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
    },
  };
  return v;
}

const unavailable = () => new ServiceError(Code.UNAVAILABLE, "the token keys are unavailable");

Deno.test("a valid token is a session", async () => {
  assert.deepEqual(await checkSession(scripted([alice]), "t"), { kind: "valid", principal: alice });
});

Deno.test("a refused token ends the session at once, with the verifier's reason", async () => {
  const v = scripted([new ServiceError(Code.UNAUTHENTICATED, "invalid access token: expired")]);
  assert.deepEqual(await checkSession(v, "t", { pauseMs: 1 }), {
    kind: "refused",
    reason: "invalid access token: expired",
  });
  assert.equal(v.calls, 1);
});

Deno.test("keys unavailable for a moment: tried again, and the session survives", async () => {
  const v = scripted([unavailable(), unavailable(), alice]);
  const check = await checkSession(v, "t", { pauseMs: 1, waitMs: 1_000 });
  assert.deepEqual(check, { kind: "valid", principal: alice });
  assert.equal(v.calls, 3);
});

Deno.test("keys unavailable throughout: undecided (the cookie stays), not refused", async () => {
  const v = scripted([unavailable()]);
  const check = await checkSession(v, "t", { pauseMs: 5, waitMs: 30 });
  assert.equal(check.kind, "undecided");
  assert.ok(v.calls >= 2 && v.calls <= 8, `${v.calls} tries in 30 ms`);
});

Deno.test("an outage is waited out once: later checks try once until the verifier decides", async () => {
  const answers: Array<Error | Principal> = [unavailable()];
  const v = scripted(answers);
  const sessions = new SessionChecker(v, { pauseMs: 5, waitMs: 30 });
  assert.equal((await sessions.check("t")).kind, "undecided");
  const waited = v.calls;
  assert.ok(waited >= 2, `${waited} tries at the outage's start`);
  assert.ok(sessions.outageSince instanceof Date);
  const started = Date.now();
  assert.equal((await sessions.check("t")).kind, "undecided");
  assert.equal(v.calls, waited + 1, "one try during a known outage");
  assert.ok(Date.now() - started < 25, "no wait during a known outage");
  // The keys come back: the check decides, and the outage is over.
  answers.length = 0;
  answers.push(alice);
  v.calls = 0;
  assert.deepEqual(await sessions.check("t"), { kind: "valid", principal: alice });
  assert.equal(sessions.outageSince, undefined);
  // A new outage is waited out again.
  answers[0] = unavailable();
  v.calls = 0;
  assert.equal((await sessions.check("t")).kind, "undecided");
  assert.ok(v.calls >= 2, `${v.calls} tries at the new outage's start`);
});

Deno.test("a refused token during an outage ends the session and the outage", async () => {
  const answers: Array<Error | Principal> = [unavailable()];
  const v = scripted(answers);
  const sessions = new SessionChecker(v, { pauseMs: 1, waitMs: 5 });
  await sessions.check("t");
  answers[0] = new ServiceError(Code.UNAUTHENTICATED, "invalid access token: revoked");
  v.calls = 0;
  assert.deepEqual(await sessions.check("t"), {
    kind: "refused",
    reason: "invalid access token: revoked",
  });
  assert.equal(sessions.outageSince, undefined);
});
