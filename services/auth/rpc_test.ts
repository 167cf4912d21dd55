/**
 * The auth handlers through the real REST gateway, with the user service faked at the edge (and,
 * for "user service down", a real gRPC client pointed at a closed port).
 */
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { jwksVerifier, revocationId } from "@stocklet/shared/auth";
import { Code, ServiceError } from "@stocklet/shared/errors";
import { user } from "@stocklet/shared/proto";
import { grpcClient, restApp } from "@stocklet/shared/server";
import { decodeJwt } from "jose";
import { fixedKeys } from "./key_ring.ts";
import { generateSigningKey } from "./keys.ts";
import { authRpc, type CredentialStore } from "./rpc.ts";
import { issueToken } from "./tokens.ts";

const ALICE = "0190d6a4-7b1c-7cc3-9a4e-3f1b2c3d4e5f";
const key = await generateSigningKey();
const previous = await generateSigningKey();
const verifier = jwksVerifier({ jwks: { keys: [{ ...key.publicJwk }] } });
const changes: user.ChangePasswordRequest[] = [];

const fakeUsers: CredentialStore = {
  verifyCredentials(init) {
    const req = create(user.VerifyCredentialsRequestSchema, init);
    const ok = req.identity.case === "email" && req.identity.value === "alice@example.com" &&
      req.password === "right-password";
    return ok
      ? Promise.resolve(create(user.VerifyCredentialsResponseSchema, {
        userId: ALICE,
        roles: ["customer"],
        credentialVersion: "cv-2",
      }))
      : Promise.reject(new ServiceError(Code.UNAUTHENTICATED, "invalid email or password"));
  },
  changePassword(req) {
    const msg = create(user.ChangePasswordRequestSchema, req);
    if (msg.currentPassword !== "right-password") {
      return Promise.reject(
        new ServiceError(Code.PERMISSION_DENIED, "current password is incorrect"),
      );
    }
    changes.push(msg);
    return Promise.resolve(create(user.ChangePasswordResponseSchema));
  },
  listRevokedCredentials() {
    revocationCalls++;
    return Promise.resolve(create(user.ListRevokedCredentialsResponseSchema, {
      revoked: [{ userId: ALICE, credentialVersion: "cv-1" }],
    }));
  },
};
let revocationCalls = 0;

const app = restApp({
  bindings: [
    authRpc({ keys: fixedKeys(key, [previous.publicJwk]), users: fakeUsers, ttlSeconds: 900 }),
  ],
  verifier,
});

function post(path: string, body: unknown, token?: string): Promise<Response> {
  return Promise.resolve(app.request(path, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  }));
}

Deno.test("GET /v1/auth/jwks is a JWKS the kit's remote verifier reads over HTTP", async () => {
  const res = await app.request("/v1/auth/jwks");
  assert.equal(res.status, 200);
  const body = await res.json();
  const fields = Object.keys(body.keys[0]).sort();
  // The signing key first, then the previous one (its tokens may still be alive).
  assert.deepEqual(body, { keys: [{ ...key.publicJwk }, { ...previous.publicJwk }] });
  assert.deepEqual(fields, [
    "alg",
    "crv",
    "kid",
    "kty",
    "use",
    "x",
    "y",
  ]);

  const stop = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: stop.signal, onListen: () => {} },
    app.fetch,
  );
  try {
    const remote = jwksVerifier({ jwks: `http://127.0.0.1:${server.addr.port}/v1/auth/jwks` });
    const t = await issueToken(key, { userId: ALICE, roles: ["customer"] });
    assert.deepEqual(await remote.verify(t.accessToken), {
      userId: ALICE,
      roles: ["customer"],
      credentialVersion: "",
    });
    const old = await issueToken(previous, { userId: ALICE, roles: ["customer"] });
    assert.equal((await remote.verify(old.accessToken)).userId, ALICE, "the previous key verifies");
  } finally {
    stop.abort();
    await server.finished;
  }
});

Deno.test("POST /v1/auth/login answers a bearer token for good credentials", async () => {
  const res = await post("/v1/auth/login", {
    email: "alice@example.com",
    password: "right-password",
  });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.detail, "Success");
  assert.equal(body.data.token_type, "Bearer");
  assert.equal(body.data.expires_in, 900);
  assert.deepEqual(await verifier.verify(body.data.access_token), {
    userId: ALICE,
    roles: ["customer"],
    credentialVersion: "cv-2",
  });
  assert.equal(decodeJwt(body.data.access_token).cv, "cv-2", "the token names its credential");
});

Deno.test("GET /v1/auth/revocations lists replaced credentials as opaque ids, fetched once a second", async () => {
  const own = restApp({ bindings: [authRpc({ keys: fixedKeys(key), users: fakeUsers })] });
  const before = revocationCalls;
  const res = await own.request("/v1/auth/revocations");
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { revoked: [revocationId(ALICE, "cv-1")] });
  await own.request("/v1/auth/revocations");
  assert.equal(revocationCalls - before, 1, "a second call within the second is served cached");
});

Deno.test("POST /v1/auth/login answers 401 (not 403) for bad credentials", async () => {
  const res = await post("/v1/auth/login", { email: "alice@example.com", password: "wrong" });
  assert.equal(res.status, 401);
  assert.deepEqual(await res.json(), {
    code: Code.UNAUTHENTICATED,
    message: "invalid email or password",
    details: [],
  });
});

Deno.test("POST /v1/auth/login answers 400 naming the field for invalid input", async () => {
  const cases: Array<[unknown, string]> = [
    [{ email: "not-an-email", password: "x" }, "email"],
    [{ email: "alice@example.com", password: "" }, "password"],
    [{ user_id: "42", password: "x" }, "user_id"],
  ];
  for (const [body, field] of cases) {
    const res = await post("/v1/auth/login", body);
    assert.equal(res.status, 400, JSON.stringify(body));
    const err = await res.json();
    assert.ok(err.details.some((d: { field?: string }) => d.field === field), JSON.stringify(err));
  }
  const none = await post("/v1/auth/login", { password: "x" });
  assert.equal(none.status, 400);
});

Deno.test("POST /v1/auth/login answers 503 when the user service is down", async () => {
  // Nothing listens on port 1: grpc-js fails fast with UNAVAILABLE.
  const down = grpcClient(user.UserInternalService, "127.0.0.1:1");
  try {
    const app = restApp({ bindings: [authRpc({ keys: fixedKeys(key), users: down })], verifier });
    const res = await app.request("/v1/auth/login", {
      method: "POST",
      body: JSON.stringify({ email: "alice@example.com", password: "right-password" }),
    });
    assert.equal(res.status, 503);
    assert.equal((await res.json()).message, "user service unavailable");
    assert.equal((await app.request("/v1/auth/revocations")).status, 503);
  } finally {
    down.close();
  }
});

Deno.test("POST /v1/auth/password needs a token and changes only the caller's password", async () => {
  const body = { current_password: "right-password", new_password: "a-new-password" };
  assert.equal((await post("/v1/auth/password", body)).status, 401);
  assert.equal((await post("/v1/auth/password", body, "not.a.jwt")).status, 401);

  const { accessToken } = await issueToken(key, { userId: ALICE, roles: ["customer"] });
  const ok = await post("/v1/auth/password", body, accessToken);
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { detail: "Successfully updated password" });
  assert.deepEqual(changes.map((c) => [c.userId, c.newPassword]), [[ALICE, "a-new-password"]]);

  const wrong = await post("/v1/auth/password", { ...body, current_password: "nope" }, accessToken);
  assert.equal(wrong.status, 403);
  const short = await post("/v1/auth/password", { ...body, new_password: "short" }, accessToken);
  assert.equal(short.status, 400);
  assert.equal(changes.length, 1);
});
