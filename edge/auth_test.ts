import assert from "node:assert/strict";
import { ServiceError } from "@stocklet/shared/errors";
import { tokenCheck } from "./auth.ts";
import type { TokenVerifier } from "@stocklet/shared/auth";
import { type TestKeys, testKeys } from "@stocklet/testing/tokens";

/** The test keys' verifier, counting its calls. */
function counting(kit: TestKeys): TokenVerifier & { calls: number } {
  const v = {
    calls: 0,
    verify(token: string) {
      v.calls++;
      return kit.verifier.verify(token);
    },
  };
  return v;
}

Deno.test("tokenCheck() lets requests without a token through, verifying nothing", async () => {
  const kit = await testKeys();
  const verifier = counting(kit);
  const auth = tokenCheck({ verifier });
  await assert.doesNotReject(auth.check(null), "no Authorization header");
  await assert.doesNotReject(auth.check(""), "an empty one");
  assert.equal(verifier.calls, 0, "nothing to verify");
  await assert.doesNotReject(auth.check(`Bearer ${await kit.sign()}`));
  assert.equal(verifier.calls, 1, "a token present is verified");
});

Deno.test("tokenCheck() accepts a valid bearer token and rejects others with 401", async () => {
  const kit = await testKeys();
  const auth = tokenCheck({ verifier: kit.verifier });
  await assert.doesNotReject(auth.check(`Bearer ${await kit.sign()}`));
  for (
    const bad of ["Bearer nope", "Token abc", "Bearer", `Bearer ${await kit.sign({ exp: 1 })}`]
  ) {
    await assert.rejects(auth.check(bad), (e: unknown) => {
      assert.ok(e instanceof ServiceError);
      assert.equal(e.code, 16);
      return true;
    });
  }
});

Deno.test("tokenCheck() remembers a verified token until the TTL or its expiry", async () => {
  const kit = await testKeys();
  const verifier = counting(kit);
  let now = Date.now();
  const auth = tokenCheck({
    verifier,
    cacheTtlMs: 1000,
    now: () => now,
  });
  const token = `Bearer ${await kit.sign()}`;
  await auth.check(token);
  await auth.check(token);
  assert.equal(verifier.calls, 1);
  now += 1500;
  await auth.check(token);
  assert.equal(verifier.calls, 2, "re-verified after the TTL");

  now = Date.now();
  const soon = Math.floor(now / 1000) + 10;
  const short = `Bearer ${await kit.sign({ exp: soon })}`;
  await auth.check(short);
  await auth.check(short);
  assert.equal(verifier.calls, 3);
  now = soon * 1000 + 1;
  await auth.check(short).catch(() => {}); // the verifier has its own clock
  assert.equal(verifier.calls, 4, "not trusted from the cache past its exp");
});

Deno.test("tokenCheck() evicts the oldest token when full", async () => {
  const kit = await testKeys();
  const verifier = counting(kit);
  const auth = tokenCheck({ verifier, cacheSize: 1 });
  const a = `Bearer ${await kit.sign({ sub: "a" })}`;
  const b = `Bearer ${await kit.sign({ sub: "b" })}`;
  await auth.check(a);
  await auth.check(b);
  await auth.check(a);
  assert.equal(verifier.calls, 3);
});
