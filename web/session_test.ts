import assert from "node:assert/strict";
import type { Principal, TokenVerifier } from "@stocklet/shared/auth";
import { Code, ServiceError } from "@stocklet/shared/errors";
import { checkSession } from "./session.ts";

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
