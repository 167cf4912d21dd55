/**
 * Auth and user together against real Postgres databases (one each): the user service's
 * UserInternalService on a real gRPC server, both REST gateways through `app.request`, and the
 * auth gateway on a real socket where a remote JWKS is needed.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { cachingVerifier, jwksVerifier } from "@stocklet/shared/auth";
import { Code } from "@stocklet/shared/errors";
import { user } from "@stocklet/shared/proto";
import { grpcClient, restApp, startGrpcServer } from "@stocklet/shared/server";
import { createTestDb } from "@stocklet/testing/db";
import { bootstrapAdmin } from "@stocklet/user/admin";
import { userInternalRpc } from "@stocklet/user/internal_rpc";
import { hashPassword, verifyPassword } from "@stocklet/user/password";
import { REGISTERED, userRpc } from "@stocklet/user/rpc";
import { findUserByEmail } from "@stocklet/user/store";
import { openKeyRing } from "./key_ring.ts";
import { parsePrivateKeyPem } from "./keys.ts";
import { authRpc, authVerifier } from "./rpc.ts";
import { loadOrCreateSigningKey, publishedKeys, resolveSigningKey } from "./store.ts";
import { issueToken } from "./tokens.ts";

function json(body: unknown, token?: string): RequestInit {
  return {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  };
}

Deno.test("signing keys: generated once, kept across restarts, one key for racing starts", async (t) => {
  const db = await createTestDb("auth");
  try {
    await t.step("concurrent first starts converge on one stored key", async () => {
      const results = await Promise.all([1, 2, 3, 4].map(() => loadOrCreateSigningKey(db.sql)));
      assert.equal(new Set(results.map((r) => r.key.kid)).size, 1);
      assert.equal(results.filter((r) => r.created).length, 1);
      assert.equal((await db.sql`select kid from signing_keys`).length, 1);
    });

    await t.step("a restart signs with the stored key", async () => {
      const [row] = await db.sql<{ kid: string }[]>`select kid from signing_keys`;
      const again = await resolveSigningKey(db.sql, "");
      assert.equal(again.kid, row!.kid);
      assert.equal((await db.sql`select kid from signing_keys`).length, 1);
    });

    await t.step(
      "AUTH_PRIVATE_KEY wins over the stored key; only its public half is stored",
      async () => {
        const [stored] = await db.sql<{ kid: string }[]>`select kid from signing_keys`;
        const pem = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey
          .export({ type: "sec1", format: "pem" }).toString();
        const fromEnv = await resolveSigningKey(db.sql, btoa(pem));
        assert.equal(fromEnv.kid, (await parsePrivateKeyPem(pem)).kid);
        const rows = await db.sql<{ kid: string; private_jwk: unknown }[]>`
          select kid, private_jwk from signing_keys order by not_before`;
        assert.deepEqual(rows.map((r) => [r.kid, r.private_jwk === null]), [
          [stored!.kid, false],
          [fromEnv.kid, true],
        ]);
        // The operator's key replaced the generated one, which stays published for a token
        // lifetime: its tokens keep working (issue 13 #6).
        const published = (await publishedKeys(db.sql, 3600)).map((k) => k.kid);
        assert.deepEqual(published, [fromEnv.kid, stored!.kid]);
        // Three hours later, a one-hour token lifetime no longer needs the old key.
        await db.sql`update signing_keys set not_before = not_before - interval '3 hours'`;
        assert.deepEqual((await publishedKeys(db.sql, 3600)).map((k) => k.kid), [fromEnv.kid]);
        assert.deepEqual(
          (await publishedKeys(db.sql, 4 * 3600)).map((k) => k.kid),
          [fromEnv.kid, stored!.kid],
        );
      },
    );
  } finally {
    await db.drop();
  }
});

Deno.test("key rotation: the new key is published before it signs, the old one while its tokens live (issue 13 #6)", async () => {
  const db = await createTestDb("auth");
  try {
    const opts = { pem: "", tokenTtlSeconds: 3600, rotateAfterMs: 1, publishLeadMs: 1_000 };
    const a = await openKeyRing(db.sql, opts);
    const b = await openKeyRing(db.sql, opts); // a second instance
    const first = a.signing().kid;
    assert.equal(b.signing().kid, first);
    // The first refresh after start rotated (rotateAfterMs is 1 ms): a new key waits a second.
    const kids = (await db.sql<{ kid: string }[]>`select kid from signing_keys`).map((r) => r.kid);
    assert.equal(kids.length, 2, "one rotation for two instances");
    const next = kids.find((k) => k !== first)!;
    assert.deepEqual(a.published().map((k) => k.kid), [next, first], "published before it signs");
    assert.equal(a.signing().kid, first);
    const oldToken = await issueToken(a.signing(), { userId: "u", roles: [] });
    await new Promise((r) => setTimeout(r, 1_100));
    await Promise.all([a.refresh(), b.refresh()]);
    assert.equal(a.signing().kid, next, "the new key signs once its time came");
    assert.equal(b.signing().kid, next, "on every instance");
    const verifier = jwksVerifier({
      jwks: () => Promise.resolve({ keys: b.published().map((k) => ({ ...k })) }),
    });
    assert.equal((await verifier.verify(oldToken.accessToken)).userId, "u", "old tokens live");
    const newToken = await issueToken(b.signing(), { userId: "v", roles: [] });
    assert.equal((await verifier.verify(newToken.accessToken)).userId, "v");
  } finally {
    await db.drop();
  }
});

Deno.test("register → login → token verified against GET /v1/auth/jwks", async (t) => {
  const authDb = await createTestDb("auth");
  const userDb = await createTestDb("user");
  const keys = await openKeyRing(authDb.sql, { pem: "", tokenTtlSeconds: 86_400 });
  const key = keys.signing();

  const userGrpc = await startGrpcServer({
    bindings: [userRpc(userDb.sql), userInternalRpc(userDb.sql)],
    port: 0,
  });
  const users = grpcClient(user.UserInternalService, `127.0.0.1:${userGrpc.port}`);
  const authApp = restApp({
    bindings: [authRpc({ keys, users })],
    verifier: authVerifier(keys, users),
  });
  const stopHttp = new AbortController();
  const authHttp = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: stopHttp.signal, onListen: () => {} },
    authApp.fetch,
  );
  // The user gateway verifies tokens the way every other service does: over HTTP, from auth's JWKS.
  const remoteVerifier = cachingVerifier(jwksVerifier({
    jwks: `http://127.0.0.1:${authHttp.addr.port}/v1/auth/jwks`,
    revocationsMaxAgeMs: 200,
  }));
  const userApp = restApp({ bindings: [userRpc(userDb.sql)], verifier: remoteVerifier });

  const login = async (body: Record<string, string>) => {
    const res = await authApp.request("/v1/auth/login", json(body));
    return { status: res.status, body: await res.json() };
  };
  const setPassword = (body: unknown, token?: string) =>
    Promise.resolve(authApp.request("/v1/auth/password", json(body, token)));

  try {
    let annId = "";
    let annToken = "";

    await t.step("a registered user logs in by email, in any case", async () => {
      const reg = await userApp.request(
        "/v1/user/register",
        json({
          first_name: "Ann",
          last_name: "Lee",
          email: "ann@example.com",
          password: "ann-password",
        }),
      );
      assert.equal(reg.status, 200);
      assert.deepEqual(await reg.json(), { detail: REGISTERED });

      const { status, body } = await login({ email: "ANN@example.com", password: "ann-password" });
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(body.detail, "Success");
      assert.equal(body.data.token_type, "Bearer");
      assert.equal(body.data.expires_in, 86_400);
      annToken = body.data.access_token;
      assert.equal(decodeProtectedHeader(annToken).kid, key.kid);
      const claims = decodeJwt(annToken);
      annId = claims.sub!;
      const row = await findUserByEmail(userDb.sql, "ann@example.com");
      assert.equal(row?.id, annId);
      assert.equal(claims.cv, row?.credential_version, "the token names the credential");
      assert.match(String(claims.cv), /^[0-9a-f]{32}$/);
      assert.deepEqual([claims.sub, claims.roles, claims.exp! - claims.iat!], [
        annId,
        ["customer"],
        86_400,
      ]);
    });

    await t.step(
      "the token verifies against GET /v1/auth/jwks and opens the user's profile",
      async () => {
        assert.deepEqual(await remoteVerifier.verify(annToken), {
          userId: annId,
          roles: ["customer"],
          credentialVersion: decodeJwt(annToken).cv,
        });
        const res = await userApp.request(`/v1/user/users/${annId}`, {
          headers: { authorization: `Bearer ${annToken}` },
        });
        assert.equal(res.status, 200);
        assert.equal((await res.json()).user.email, "ann@example.com");
      },
    );

    await t.step("login by user id works too", async () => {
      const { status, body } = await login({ user_id: annId, password: "ann-password" });
      assert.equal(status, 200);
      assert.equal(decodeJwt(body.data.access_token).sub, annId);
    });

    await t.step("bad password or unknown user → 401 with one message", async () => {
      for (
        const attempt of [
          { email: "ann@example.com", password: "wrong-password" },
          { email: "nobody@example.com", password: "ann-password" },
          { user_id: "0190d6a4-0000-7000-8000-0000000000ff", password: "ann-password" },
        ]
      ) {
        const { status, body } = await login(attempt);
        assert.equal(status, 401, JSON.stringify(attempt));
        assert.deepEqual(body, {
          code: Code.UNAUTHENTICATED,
          message: "invalid email or password",
          details: [],
        });
      }
    });

    await t.step("missing or invalid fields → 400 naming the field", async () => {
      for (
        const [body, field] of [
          [{ email: "not-an-email", password: "x" }, "email"],
          [{ email: "ann@example.com" }, "password"],
        ] as const
      ) {
        const res = await login(body);
        assert.equal(res.status, 400);
        assert.ok(res.body.details.some((d: { field?: string }) => d.field === field));
      }
    });

    await t.step(
      "SetPassword needs a token and the current password; changes only the caller's",
      async () => {
        const reg = await userApp.request(
          "/v1/user/register",
          json({
            first_name: "Bob",
            last_name: "Ray",
            email: "bob@example.com",
            password: "bob-password",
          }),
        );
        assert.equal(reg.status, 200);
        const change = { current_password: "ann-password", new_password: "ann-new-password" };

        assert.equal((await setPassword(change)).status, 401);
        const wrong = await setPassword({ ...change, current_password: "bob-password" }, annToken);
        assert.equal(wrong.status, 403);
        assert.equal((await wrong.json()).message, "current password is incorrect");

        const ok = await setPassword(change, annToken);
        assert.equal(ok.status, 200);
        assert.deepEqual(await ok.json(), { detail: "Successfully updated password" });

        assert.equal(
          (await login({ email: "ann@example.com", password: "ann-password" })).status,
          401,
        );
        assert.equal(
          (await login({ email: "ann@example.com", password: "ann-new-password" })).status,
          200,
        );
        assert.equal(
          (await login({ email: "bob@example.com", password: "bob-password" })).status,
          200,
        );
      },
    );

    await t.step(
      "the password change revoked Ann's earlier token everywhere, within a second (issue 13 #9)",
      async () => {
        const deadline = Date.now() + 5_000;
        let last = "";
        for (;;) {
          const res = await userApp.request(`/v1/user/users/${annId}`, {
            headers: { authorization: `Bearer ${annToken}` },
          });
          last = `${res.status} ${JSON.stringify(await res.json())}`;
          if (res.status === 401) break;
          assert.ok(Date.now() < deadline, `the old token still works: ${last}`);
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.match(last, /revoked/);
        // A token from the new password works.
        const { body } = await login({ email: "ann@example.com", password: "ann-new-password" });
        const fresh = await userApp.request(`/v1/user/users/${annId}`, {
          headers: { authorization: `Bearer ${body.data.access_token}` },
        });
        assert.equal(fresh.status, 200);
        // SetPassword with the revoked token is refused too (auth checks revocations itself).
        const again = await setPassword(
          { current_password: "ann-new-password", new_password: "ann-third-password" },
          annToken,
        );
        assert.equal(again.status, 401);
      },
    );

    await t.step(
      "registering a taken email answers exactly as a new one and changes nothing (issue 13 #9)",
      async () => {
        const before = await findUserByEmail(userDb.sql, "ann@example.com");
        const reg = await userApp.request(
          "/v1/user/register",
          json({
            first_name: "Mallory",
            last_name: "M",
            email: "Ann@Example.com",
            password: "mallory-password",
          }),
        );
        assert.equal(reg.status, 200);
        assert.deepEqual(await reg.json(), { detail: REGISTERED });
        assert.deepEqual(await findUserByEmail(userDb.sql, "ann@example.com"), before);
        assert.equal(
          (await login({ email: "ann@example.com", password: "mallory-password" })).status,
          401,
        );
      },
    );

    await t.step(
      "a login upgrades a hash made with an older, cheaper scrypt cost (issue 13 #9)",
      async () => {
        const cheap = await hashPassword("bob-password", { N: 2 ** 14, r: 8, p: 1 });
        await userDb.sql`update users set password_hash = ${cheap} where email = 'bob@example.com'`;
        assert.equal(
          (await login({ email: "bob@example.com", password: "bob-password" })).status,
          200,
        );
        const row = await findUserByEmail(userDb.sql, "bob@example.com");
        assert.notEqual(row!.password_hash, cheap);
        assert.equal(row!.password_hash.split("$")[1], String(2 ** 17));
        assert.ok(await verifyPassword("bob-password", row!.password_hash));
        assert.equal(
          (await login({ email: "bob@example.com", password: "bob-password" })).status,
          200,
        );
      },
    );

    await t.step(
      "the bootstrap admin logs in with the admin role and sees any profile",
      async () => {
        await bootstrapAdmin(userDb.sql, {
          email: "admin@stocklet.local",
          password: "a-strong-admin-passphrase",
        });
        const { status, body } = await login({
          email: "admin@stocklet.local",
          password: "a-strong-admin-passphrase",
        });
        assert.equal(status, 200);
        assert.deepEqual(decodeJwt(body.data.access_token).roles, ["admin"]);
        const res = await userApp.request(`/v1/user/users/${annId}`, {
          headers: { authorization: `Bearer ${body.data.access_token}` },
        });
        assert.equal(res.status, 200);
      },
    );
  } finally {
    stopHttp.abort();
    await authHttp.finished;
    users.close();
    await userGrpc.close(1000);
    await Promise.all([authDb.drop(), userDb.drop()]);
  }
});
