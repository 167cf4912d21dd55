/**
 * Auth and user together against real Postgres databases (one each): the user service's
 * UserInternalService on a real gRPC server, both REST gateways through `app.request`, and the
 * auth gateway on a real socket where a remote JWKS is needed.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { jwksVerifier } from "@stocklet/shared/auth";
import { Code } from "@stocklet/shared/errors";
import { user } from "@stocklet/shared/proto";
import { grpcClient, restApp, startGrpcServer } from "@stocklet/shared/server";
import { createTestDb } from "@stocklet/testing/db";
import { bootstrapAdmin } from "@stocklet/user/admin";
import { userInternalRpc } from "@stocklet/user/internal_rpc";
import { userRpc } from "@stocklet/user/rpc";
import { parsePrivateKeyPem } from "./keys.ts";
import { authRpc } from "./rpc.ts";
import { loadOrCreateSigningKey, resolveSigningKey } from "./store.ts";

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

    await t.step("AUTH_PRIVATE_KEY wins over the stored key and is not stored", async () => {
      const pem = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey
        .export({ type: "sec1", format: "pem" }).toString();
      const fromEnv = await resolveSigningKey(db.sql, btoa(pem));
      assert.equal(fromEnv.kid, (await parsePrivateKeyPem(pem)).kid);
      const kids = (await db.sql<{ kid: string }[]>`select kid from signing_keys`).map((r) =>
        r.kid
      );
      assert.equal(kids.length, 1);
      assert.notEqual(kids[0], fromEnv.kid);
    });
  } finally {
    await db.drop();
  }
});

Deno.test("register → login → token verified against GET /v1/auth/jwks", async (t) => {
  const authDb = await createTestDb("auth");
  const userDb = await createTestDb("user");
  const key = await resolveSigningKey(authDb.sql, "");
  const localVerifier = jwksVerifier({ jwks: { keys: [{ ...key.publicJwk }] } });

  const userGrpc = await startGrpcServer({
    bindings: [userRpc(userDb.sql), userInternalRpc(userDb.sql)],
    port: 0,
  });
  const users = grpcClient(user.UserInternalService, `127.0.0.1:${userGrpc.port}`);
  const authApp = restApp({ bindings: [authRpc({ key, users })], verifier: localVerifier });
  const stopHttp = new AbortController();
  const authHttp = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: stopHttp.signal, onListen: () => {} },
    authApp.fetch,
  );
  // The user gateway verifies tokens the way every other service does: over HTTP, from auth's JWKS.
  const remoteVerifier = jwksVerifier({
    jwks: `http://127.0.0.1:${authHttp.addr.port}/v1/auth/jwks`,
  });
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
      annId = (await reg.json()).user.id;

      const { status, body } = await login({ email: "ANN@example.com", password: "ann-password" });
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(body.detail, "Success");
      assert.equal(body.data.token_type, "Bearer");
      assert.equal(body.data.expires_in, 86_400);
      annToken = body.data.access_token;
      assert.equal(decodeProtectedHeader(annToken).kid, key.kid);
      const claims = decodeJwt(annToken);
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
      "the bootstrap admin logs in with the admin role and sees any profile",
      async () => {
        await bootstrapAdmin(userDb.sql, {
          email: "admin@stocklet.local",
          password: "stocklet-admin",
        });
        const { status, body } = await login({
          email: "admin@stocklet.local",
          password: "stocklet-admin",
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
