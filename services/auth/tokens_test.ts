import assert from "node:assert/strict";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { jwksVerifier, TOKEN_AUDIENCE, TOKEN_ISSUER } from "@stocklet/shared/auth";
import { Code, ServiceError } from "@stocklet/shared/errors";
import { isUuid } from "@stocklet/shared/ids";
import { generateSigningKey } from "./keys.ts";
import { issueToken } from "./tokens.ts";

const USER = "0190d6a4-7b1c-7cc3-9a4e-3f1b2c3d4e5f";
const key = await generateSigningKey();

Deno.test("issueToken() signs ES256 with the key's kid and the agreed claims", async () => {
  const now = Date.UTC(2026, 0, 1, 12);
  const t = await issueToken(key, { userId: USER, roles: ["customer"] }, {
    ttlSeconds: 600,
    now,
  });
  assert.equal(t.expiresIn, 600);
  assert.deepEqual(decodeProtectedHeader(t.accessToken), {
    alg: "ES256",
    kid: key.kid,
    typ: "JWT",
  });
  const claims = decodeJwt(t.accessToken);
  assert.equal(claims.sub, USER);
  assert.deepEqual(claims.roles, ["customer"]);
  assert.equal(claims.iss, TOKEN_ISSUER);
  assert.equal(claims.aud, TOKEN_AUDIENCE);
  assert.equal(claims.iat, now / 1000);
  assert.equal(claims.exp, now / 1000 + 600);
  assert.ok(typeof claims.jti === "string" && isUuid(claims.jti));
});

Deno.test("issueToken() defaults to a one-day lifetime and unique jtis", async () => {
  const a = await issueToken(key, { userId: USER, roles: [] });
  const b = await issueToken(key, { userId: USER, roles: [] });
  assert.equal(a.expiresIn, 86_400);
  const ca = decodeJwt(a.accessToken);
  assert.equal(ca.exp! - ca.iat!, 86_400);
  assert.notEqual(ca.jti, decodeJwt(b.accessToken).jti);
});

Deno.test("the kit's verifier accepts issued tokens against the public JWK", async () => {
  const verifier = jwksVerifier({ jwks: { keys: [{ ...key.publicJwk }] } });
  const t = await issueToken(key, { userId: USER, roles: ["admin", "customer"] });
  assert.deepEqual(await verifier.verify(t.accessToken), {
    userId: USER,
    roles: ["admin", "customer"],
    credentialVersion: "",
  });
  const v2 = await issueToken(key, { userId: USER, roles: [], credentialVersion: "v2" });
  assert.equal(decodeJwt(v2.accessToken).cv, "v2");
  assert.equal((await verifier.verify(v2.accessToken)).credentialVersion, "v2");
});

Deno.test("the kit's verifier rejects an expired token and another key's token", async () => {
  const verifier = jwksVerifier({ jwks: { keys: [{ ...key.publicJwk }] } });
  const old = await issueToken(key, { userId: USER, roles: [] }, {
    ttlSeconds: 60,
    now: Date.now() - 3_600_000,
  });
  const isUnauthenticated = (reason: RegExp) => (e: unknown) =>
    e instanceof ServiceError && e.code === Code.UNAUTHENTICATED && reason.test(e.message);
  await assert.rejects(verifier.verify(old.accessToken), isUnauthenticated(/expired/));
  const other = await issueToken(await generateSigningKey(), { userId: USER, roles: [] });
  await assert.rejects(
    verifier.verify(other.accessToken),
    isUnauthenticated(/unknown signing key/),
  );
});
