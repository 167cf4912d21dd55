import assert from "node:assert/strict";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import {
  bearerToken,
  cachingVerifier,
  jwksVerifier,
  type Principal,
  requireAdmin,
  requireOwnerOrAdmin,
  requireUser,
  revocationId,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
} from "./auth.ts";
import { Code, ServiceError } from "./errors.ts";

const good = await generateKeyPair("ES256", { extractable: true });
const other = await generateKeyPair("ES256", { extractable: true });
const jwk: JWK = { ...(await exportJWK(good.publicKey)), kid: "k1", alg: "ES256", use: "sig" };
const verifier = jwksVerifier({ jwks: { keys: [jwk] } });

function sign(
  claims: Record<string, unknown> = {},
  opts: {
    key?: Parameters<SignJWT["sign"]>[0];
    kid?: string;
    exp?: number | string;
    iss?: string;
  } = {},
): Promise<string> {
  return new SignJWT({ roles: ["customer"], ...claims })
    .setProtectedHeader({ alg: "ES256", kid: opts.kid ?? "k1" })
    .setSubject(typeof claims.sub === "string" ? claims.sub : "user-1")
    .setIssuer(opts.iss ?? TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? "1h")
    .sign(opts.key ?? good.privateKey);
}

function b64url(s: string): string {
  return btoa(s).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

async function rejects(token: string, reason: RegExp): Promise<void> {
  await assert.rejects(verifier.verify(token), (e: unknown) => {
    assert.ok(e instanceof ServiceError);
    assert.equal(e.code, Code.UNAUTHENTICATED);
    assert.match(e.message, reason);
    return true;
  });
}

Deno.test("jwksVerifier() accepts a valid ES256 token and reads sub and roles", async () => {
  const p = await verifier.verify(await sign({ roles: ["customer", "admin"] }));
  assert.deepEqual(p, { userId: "user-1", roles: ["customer", "admin"] });
  const withCv = await verifier.verify(await sign({ cv: "v1" }));
  assert.equal(withCv.credentialVersion, "v1");
});

Deno.test("jwksVerifier() rejects an expired token", async () => {
  await rejects(await sign({}, { exp: Math.floor(Date.now() / 1000) - 60 }), /expired/);
});

Deno.test("jwksVerifier() rejects a tampered payload", async () => {
  const [h, , s] = (await sign()).split(".");
  const forged = b64url(JSON.stringify({
    sub: "admin-user",
    roles: ["admin"],
    iss: TOKEN_ISSUER,
    aud: TOKEN_AUDIENCE,
    iat: 1,
    exp: 9999999999,
  }));
  await rejects(`${h}.${forged}.${s}`, /bad signature/);
});

Deno.test('jwksVerifier() rejects alg "none"', async () => {
  const header = b64url(JSON.stringify({ alg: "none", typ: "JWT" }));
  const payload = b64url(JSON.stringify({
    sub: "x",
    iss: TOKEN_ISSUER,
    aud: TOKEN_AUDIENCE,
    iat: 1,
    exp: 9999999999,
  }));
  await rejects(`${header}.${payload}.`, /algorithm not allowed|malformed/);
});

Deno.test("jwksVerifier() rejects a token signed by a key it does not know", async () => {
  await rejects(await sign({}, { key: other.privateKey, kid: "k1" }), /bad signature/);
  await rejects(await sign({}, { key: other.privateKey, kid: "k9" }), /unknown signing key/);
});

Deno.test("jwksVerifier() rejects a wrong issuer", async () => {
  await rejects(await sign({}, { iss: "someone-else" }), /bad iss claim/);
});

Deno.test("jwksVerifier() refetches a remote JWKS when a token names an unknown kid", async () => {
  let keys: JWK[] = [jwk];
  let fetches = 0;
  const ac = new AbortController();
  const server = Deno.serve({ port: 0, signal: ac.signal, onListen: () => {} }, () => {
    fetches++;
    return Response.json({ keys });
  });
  try {
    const remote = jwksVerifier({
      jwks: `http://127.0.0.1:${server.addr.port}/v1/auth/jwks`,
      cooldownMs: 0,
      revocations: false,
    });
    await remote.verify(await sign());
    await remote.verify(await sign());
    assert.equal(fetches, 1, "the key set is cached");
    const rotated: JWK = { ...(await exportJWK(other.publicKey)), kid: "k2", alg: "ES256" };
    keys = [jwk, rotated];
    const p = await remote.verify(await sign({}, { key: other.privateKey, kid: "k2" }));
    assert.equal(p.userId, "user-1");
    assert.equal(fetches, 2, "an unknown kid refetches the set");
  } finally {
    ac.abort();
    await server.finished;
  }
});

Deno.test("bearerToken() reads Bearer values and rejects other schemes", () => {
  assert.equal(bearerToken(undefined), undefined);
  assert.equal(bearerToken("Bearer abc.def.ghi"), "abc.def.ghi");
  assert.equal(bearerToken("bearer  abc.def.ghi"), "abc.def.ghi");
  assert.throws(() => bearerToken("Basic dXNlcjpwYXNz"), /Bearer/);
  assert.throws(() => bearerToken("Bearer a b"), /Bearer/);
});

Deno.test("require helpers answer 401 without a user and 403 without the right", () => {
  const customer: Principal = { userId: "u1", roles: ["customer"] };
  const admin: Principal = { userId: "a1", roles: ["admin"] };
  const code = (f: () => unknown) => {
    try {
      f();
      return Code.OK;
    } catch (e) {
      return (e as ServiceError).code;
    }
  };
  assert.equal(code(() => requireUser(null)), Code.UNAUTHENTICATED);
  assert.equal(code(() => requireAdmin(null)), Code.UNAUTHENTICATED);
  assert.equal(code(() => requireAdmin(customer)), Code.PERMISSION_DENIED);
  assert.equal(code(() => requireAdmin(admin)), Code.OK);
  assert.equal(code(() => requireOwnerOrAdmin(customer, "u2")), Code.PERMISSION_DENIED);
  assert.equal(code(() => requireOwnerOrAdmin(customer, "u1")), Code.OK);
  assert.equal(code(() => requireOwnerOrAdmin(admin, "u2")), Code.OK);
});

Deno.test("cachingVerifier() checks a token once per TTL, never past its expiry, and never caches a failure", async () => {
  let calls = 0;
  let clock = 1_000_000;
  const inner = {
    verify: (token: string) => {
      calls++;
      if (token === "bad") return Promise.reject(new ServiceError(Code.UNAUTHENTICATED, "no"));
      return Promise.resolve({ userId: "u", roles: [] });
    },
  };
  const cached = cachingVerifier(inner, { ttlMs: 10_000, now: () => clock });
  const exp = Math.floor((clock + 5_000) / 1000);
  const token = `${b64url("{}")}.${b64url(JSON.stringify({ exp }))}.sig`;
  await cached.verify(token);
  await cached.verify(token);
  assert.equal(calls, 1);
  clock += 6_000; // past exp, within the TTL
  await cached.verify(token);
  assert.equal(calls, 2);
  await assert.rejects(cached.verify("bad"));
  await assert.rejects(cached.verify("bad"));
  assert.equal(calls, 4);
});

/** A fake auth service publishing a key set and a revocation list, each switchable to failing. */
function fakeAuthority(initial: { keys: JWK[]; revoked?: string[] }) {
  const state = {
    keys: initial.keys,
    revoked: initial.revoked ?? [],
    failKeys: false,
    failRevocations: false,
    keyFetches: 0,
    revocationFetches: 0,
  };
  const ac = new AbortController();
  const server = Deno.serve({ port: 0, signal: ac.signal, onListen: () => {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/v1/auth/jwks") {
      state.keyFetches++;
      return state.failKeys ? new Response("down", { status: 503 }) : Response.json({
        keys: state.keys,
      });
    }
    if (path === "/v1/auth/revocations") {
      state.revocationFetches++;
      return state.failRevocations
        ? new Response("down", { status: 503 })
        : Response.json({ revoked: state.revoked });
    }
    return new Response("no", { status: 404 });
  });
  return {
    state,
    url: `http://127.0.0.1:${server.addr.port}/v1/auth/jwks`,
    async close() {
      ac.abort();
      await server.finished;
    },
  };
}

Deno.test("jwksVerifier() keeps serving the last good key set while refreshing fails (issue 13 #6)", async () => {
  const auth = fakeAuthority({ keys: [jwk] });
  let clock = 1_000_000;
  try {
    const remote = jwksVerifier({
      jwks: auth.url,
      keysMaxAgeMs: 1_000,
      cooldownMs: 0,
      revocations: false,
      now: () => clock,
    });
    assert.equal((await remote.verify(await sign())).userId, "user-1");
    auth.state.failKeys = true;
    clock += 60 * 60_000; // an hour: far past the set's maximum age, auth down all along
    for (let i = 0; i < 3; i++) {
      assert.equal((await remote.verify(await sign())).userId, "user-1");
      await new Promise((r) => setTimeout(r, 20)); // let the background refresh fail
    }
    assert.ok(auth.state.keyFetches >= 2, "it did try to refresh");
    // An unknown kid while auth is down is still a plain 401, the known ones keep working.
    await assert.rejects(
      remote.verify(await sign({}, { key: other.privateKey, kid: "k9" })),
      (e: unknown) => e instanceof ServiceError && e.code === Code.UNAUTHENTICATED,
    );
    assert.equal((await remote.verify(await sign())).userId, "user-1");
  } finally {
    await auth.close();
  }
});

Deno.test("jwksVerifier() answers 503, not 401, while it never had a key set (issue 13 #6)", async () => {
  const auth = fakeAuthority({ keys: [jwk] });
  auth.state.failKeys = true;
  try {
    let clock = 1_000_000;
    const remote = jwksVerifier({
      jwks: auth.url,
      cooldownMs: 0,
      revocations: false,
      now: () => clock,
    });
    const unavailable = (e: unknown) => {
      assert.ok(e instanceof ServiceError);
      assert.equal(e.code, Code.UNAVAILABLE);
      assert.match(e.message, /token keys are unavailable/);
      return true;
    };
    await assert.rejects(remote.verify(await sign()), unavailable);
    // Retried at most once a second: a burst of requests does not become a burst of fetches.
    const fetches = auth.state.keyFetches;
    await assert.rejects(remote.verify(await sign()), unavailable);
    assert.equal(auth.state.keyFetches, fetches);
    auth.state.failKeys = false;
    clock += 1_000;
    assert.equal((await remote.verify(await sign())).userId, "user-1", "recovers by itself");
  } finally {
    await auth.close();
  }
});

Deno.test("jwksVerifier() verifies tokens of the previous key after a rotation", async () => {
  const previous: JWK = { ...(await exportJWK(other.publicKey)), kid: "k0", alg: "ES256" };
  const auth = fakeAuthority({ keys: [jwk, previous] });
  try {
    const remote = jwksVerifier({ jwks: auth.url, revocations: false });
    assert.equal((await remote.verify(await sign())).userId, "user-1");
    const old = await sign({}, { key: other.privateKey, kid: "k0" });
    assert.equal((await remote.verify(old)).userId, "user-1");
  } finally {
    await auth.close();
  }
});

Deno.test("jwksVerifier() refuses a token whose credential was revoked, also from a cache (issue 13 #9)", async () => {
  const auth = fakeAuthority({ keys: [jwk] });
  let clock = Date.now();
  try {
    const remote = jwksVerifier({ jwks: auth.url, revocationsMaxAgeMs: 1_000, now: () => clock });
    const cached = cachingVerifier(remote, { now: () => clock });
    const before = await sign({ cv: "v1" });
    const after = await sign({ cv: "v2" });
    const legacy = await sign(); // no cv claim
    assert.equal((await cached.verify(before)).credentialVersion, "v1");
    assert.equal(auth.state.revocationFetches, 1, "the list is fetched with the first token");
    // The password changes: v1 (and the legacy tokens' "") are revoked.
    auth.state.revoked = [revocationId("user-1", "v1"), revocationId("user-1", "")];
    clock += 2_000;
    cached.verify(before).catch(() => {}); // a hit: rechecked, and the stale list refreshed
    await new Promise((r) => setTimeout(r, 50));
    for (const token of [before, legacy]) {
      await assert.rejects(cached.verify(token), (e: unknown) => {
        assert.ok(e instanceof ServiceError);
        assert.equal(e.code, Code.UNAUTHENTICATED);
        assert.match(e.message, /revoked/);
        return true;
      });
    }
    assert.equal((await cached.verify(after)).credentialVersion, "v2");
    // Another user's same credential version is not affected.
    assert.equal((await remote.verify(await sign({ cv: "v1", sub: "user-2" }))).userId, "user-2");
    // auth unreachable: the last list still applies.
    auth.state.failRevocations = true;
    clock += 10_000;
    await assert.rejects(remote.verify(before));
    await new Promise((r) => setTimeout(r, 50));
    await assert.rejects(remote.verify(before));
  } finally {
    await auth.close();
  }
});

Deno.test("revocationId() is opaque and depends on both the user and the credential", () => {
  const a = revocationId("u1", "v1");
  assert.match(a, /^[A-Za-z0-9_-]{22}$/);
  assert.notEqual(a, revocationId("u2", "v1"));
  assert.notEqual(a, revocationId("u1", "v2"));
  assert.equal(a, revocationId("u1", "v1"));
});
