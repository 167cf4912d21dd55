/**
 * The user service against a real Postgres (a database of its own, migrations applied): the REST
 * gateway through `app.request`, the internal service over a real gRPC server.
 */
import assert from "node:assert/strict";
import { fromBinary } from "@bufbuild/protobuf";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { jwksVerifier, TOKEN_AUDIENCE, TOKEN_ISSUER } from "@stocklet/shared/auth";
import { Code, ServiceError } from "@stocklet/shared/errors";
import { events, user } from "@stocklet/shared/proto";
import { grpcClient, restApp, startGrpcServer } from "@stocklet/shared/server";
import { AdminEmailTaken, adminPasswordProblem, bootstrapAdmin } from "./admin.ts";
import { BAD_CREDENTIALS, userInternalRpc } from "./internal_rpc.ts";
import { verifyPassword } from "./password.ts";
import { REGISTERED, userRpc } from "./rpc.ts";
import { findUserByEmail } from "./store.ts";
import { createTestDb, type TestDb } from "@stocklet/testing/db";

/** Signs tokens the way the auth service does, with a key of the test's own. */
async function tokenSigner(): Promise<{
  verifier: ReturnType<typeof jwksVerifier>;
  sign(sub: string, roles?: string[]): Promise<string>;
}> {
  const { publicKey, privateKey } = await generateKeyPair("ES256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "t", alg: "ES256", use: "sig" };
  return {
    verifier: jwksVerifier({ jwks: { keys: [jwk] } }),
    sign: (sub, roles = ["customer"]) =>
      new SignJWT({ roles }).setProtectedHeader({ alg: "ES256", kid: "t" }).setSubject(sub)
        .setIssuer(TOKEN_ISSUER).setAudience(TOKEN_AUDIENCE).setIssuedAt().setExpirationTime("5m")
        .sign(privateKey),
  };
}

/** Copies every outbox insert into `outbox_seen`: the kit deletes outbox rows before commit. */
async function captureOutbox(db: TestDb): Promise<void> {
  await db.sql.unsafe(`
    create table outbox_seen (like outbox);
    create function outbox_seen_copy() returns trigger language plpgsql as $$
      begin insert into outbox_seen select new.*; return new; end $$;
    create trigger outbox_seen after insert on outbox
      for each row execute function outbox_seen_copy();`);
}

interface SeenEvent {
  aggregatetype: string;
  aggregateid: string;
  type: string;
  payload: Uint8Array;
}

async function seenEvents(db: TestDb, key?: string): Promise<SeenEvent[]> {
  return await db.sql<SeenEvent[]>`
    select aggregatetype, aggregateid, type, payload from outbox_seen
    ${key ? db.sql`where aggregateid = ${key}` : db.sql``}
    order by created_at`;
}

function isCode(code: number, message?: RegExp) {
  return (e: unknown): boolean =>
    e instanceof ServiceError && e.code === code && (!message || message.test(e.message));
}

Deno.test("user service against Postgres", async (t) => {
  const db = await createTestDb("user");
  const keys = await tokenSigner();
  const grpc = await startGrpcServer({
    bindings: [userRpc(db.sql), userInternalRpc(db.sql)],
    verifier: keys.verifier,
    port: 0,
  });
  // scrypt at OWASP's cost queues on a busy machine: generous deadlines.
  const internal = grpcClient(user.UserInternalService, `127.0.0.1:${grpc.port}`, {
    timeoutMs: 30_000,
  });
  const app = restApp({
    bindings: [userRpc(db.sql), userInternalRpc(db.sql)],
    verifier: keys.verifier,
  });
  const post = (path: string, body: unknown) =>
    Promise.resolve(app.request(path, { method: "POST", body: JSON.stringify(body) }));
  const get = async (path: string, token?: string) =>
    await app.request(path, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  const register = async (email: string, password = "password-123") => {
    const res = await post("/v1/user/register", {
      first_name: "Ann",
      last_name: "Lee",
      email,
      password,
    });
    return { status: res.status, body: await res.json() };
  };

  try {
    await captureOutbox(db);
    let ann: { id: string } = { id: "" };
    let bob: { id: string } = { id: "" };

    await t.step("RegisterUser creates a customer and answers no credential", async () => {
      const { status, body } = await register("Ann.Lee@Example.com");
      assert.equal(status, 200, JSON.stringify(body));
      assert.deepEqual(body, { detail: REGISTERED });
      const row = await findUserByEmail(db.sql, "ann.lee@example.com");
      ann = { id: row!.id };
      assert.match(ann.id, /^[0-9a-f-]{36}$/);
      assert.deepEqual(
        [row!.email, row!.first_name, row!.last_name, row!.roles],
        ["Ann.Lee@Example.com", "Ann", "Lee", ["customer"]],
      );
      // OWASP's scrypt cost, and a credential version of its own.
      assert.match(row!.password_hash, /^scrypt\$131072\$8\$1\$/);
      assert.match(row!.credential_version, /^[0-9a-f]{32}$/);
      await register("bob@example.com", "bob-password");
      bob = { id: (await findUserByEmail(db.sql, "bob@example.com"))!.id };
    });

    await t.step("RegisterUser publishes exactly one user.state.created per user", async () => {
      const seen = await seenEvents(db, ann.id);
      assert.equal(seen.length, 1);
      assert.equal(seen[0]!.aggregatetype, "user.state.created");
      assert.equal(seen[0]!.type, "stocklet.events.v1.UserCreatedEvent");
      const e = fromBinary(events.UserCreatedEventSchema, seen[0]!.payload);
      assert.deepEqual(
        [e.revision, e.userId, e.email, e.firstName, e.lastName],
        [1, ann.id, "Ann.Lee@Example.com", "Ann", "Lee"],
      );
      assert.equal((await seenEvents(db, bob.id)).length, 1);
      // The outbox keeps relayed rows until the background purge: exactly these two so far.
      assert.equal((await db.sql`select 1 from outbox`).length, 2);
    });

    await t.step(
      "RegisterUser answers a taken email (in any case) exactly as a new one, changing nothing",
      async () => {
        // Issue 13 #9: a 409 told anyone which emails have accounts; login never did.
        const before = (await seenEvents(db)).length;
        const row = await findUserByEmail(db.sql, "ann.lee@example.com");
        const { status, body } = await register("ann.lee@EXAMPLE.com", "another-password");
        assert.equal(status, 200);
        assert.deepEqual(body, { detail: REGISTERED });
        assert.equal((await seenEvents(db)).length, before, "no event for a taken email");
        assert.deepEqual(await findUserByEmail(db.sql, "ann.lee@example.com"), row);
      },
    );

    await t.step("two concurrent registrations of one email make one user", async () => {
      const results = await Promise.all([
        register("race@example.com"),
        register("RACE@example.com"),
      ]);
      assert.deepEqual(results.map((r) => r.status), [200, 200]);
      const rows = await db.sql`select id from users where lower(email) = 'race@example.com'`;
      assert.equal(rows.length, 1);
    });

    await t.step("RegisterUser answers 400 naming the invalid or missing field", async () => {
      const good = {
        first_name: "A",
        last_name: "B",
        email: "x@example.com",
        password: "long-enough",
      };
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ ...good, email: "not-an-email" }, "email"],
        [{ ...good, email: undefined }, "email"],
        [{ ...good, password: "short" }, "password"],
        [{ ...good, first_name: undefined }, "first_name"],
        [{ ...good, last_name: "x".repeat(65) }, "last_name"],
      ];
      for (const [body, field] of cases) {
        const res = await post("/v1/user/register", body);
        const err = await res.json();
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(err.code, Code.INVALID_ARGUMENT);
        assert.ok(
          err.details.some((d: { field?: string }) => d.field === field),
          `${field}: ${JSON.stringify(err)}`,
        );
        assert.match(err.message, new RegExp(`${field}:`));
      }
      assert.equal((await db.sql`select 1 from users where email = 'x@example.com'`).length, 0);
    });

    await t.step("ViewUser: self 200, another user 403, admin 200, no token 401", async () => {
      const annToken = await keys.sign(ann.id);
      const self = await get(`/v1/user/users/${ann.id}`, annToken);
      assert.equal(self.status, 200);
      const body = await self.json();
      assert.equal(body.user.id, ann.id);
      assert.doesNotMatch(JSON.stringify(body), /password|scrypt/i);

      assert.equal((await get(`/v1/user/users/${bob.id}`, annToken)).status, 403);
      const admin = await keys.sign("0190d6a4-0000-7000-8000-000000000000", ["admin"]);
      assert.equal((await get(`/v1/user/users/${bob.id}`, admin)).status, 200);
      assert.equal((await get(`/v1/user/users/${bob.id}`)).status, 401);
      assert.equal((await get(`/v1/user/users/${bob.id}`, "garbage.token.here")).status, 401);
    });

    await t.step("ViewUser: unknown id 404 (to an admin), malformed id 400", async () => {
      const admin = await keys.sign("0190d6a4-0000-7000-8000-000000000000", ["admin"]);
      const missing = await get("/v1/user/users/0190d6a4-0000-7000-8000-0000000000ff", admin);
      assert.equal(missing.status, 404);
      assert.equal((await missing.json()).message, "user not found");
      assert.equal((await get("/v1/user/users/42", admin)).status, 400);
    });

    await t.step("the internal service is not on the REST gateway", async () => {
      for (
        const path of ["/stocklet.user.v1.UserInternalService/VerifyCredentials", "/v1/user/verify"]
      ) {
        assert.equal((await post(path, { email: "bob@example.com", password: "x" })).status, 404);
      }
    });

    await t.step("VerifyCredentials by email (any case) or id returns the identity", async () => {
      const byEmail = await internal.verifyCredentials({
        identity: { case: "email", value: "ANN.LEE@example.COM" },
        password: "password-123",
      });
      assert.deepEqual([byEmail.userId, byEmail.roles], [ann.id, ["customer"]]);
      const byId = await internal.verifyCredentials({
        identity: { case: "userId", value: bob.id },
        password: "bob-password",
      });
      assert.equal(byId.userId, bob.id);
    });

    await t.step("VerifyCredentials answers the same UNAUTHENTICATED for any failure", async () => {
      const bad = isCode(Code.UNAUTHENTICATED, new RegExp(`^${BAD_CREDENTIALS}$`));
      const attempts: user.VerifyCredentialsRequest["identity"][] = [
        { case: "email", value: "ann.lee@example.com" },
        { case: "email", value: "nobody@example.com" },
        { case: "userId", value: "0190d6a4-0000-7000-8000-0000000000ff" },
      ];
      for (const identity of attempts) {
        await assert.rejects(internal.verifyCredentials({ identity, password: "wrong-one" }), bad);
      }
      await assert.rejects(
        internal.verifyCredentials({ password: "x" }),
        isCode(Code.INVALID_ARGUMENT),
      );
    });

    await t.step(
      "ChangePassword needs the current password and changes only that user's",
      async () => {
        const change = (userId: string, currentPassword: string, newPassword: string) =>
          internal.changePassword({ userId, currentPassword, newPassword });
        await assert.rejects(
          change(ann.id, "bob-password", "taken-over-123"),
          isCode(Code.PERMISSION_DENIED),
        );
        await assert.rejects(
          change(ann.id, "password-123", "short"),
          isCode(Code.INVALID_ARGUMENT),
        );
        await assert.rejects(
          change("0190d6a4-0000-7000-8000-0000000000ff", "x", "whatever-123"),
          isCode(Code.NOT_FOUND),
        );
        await change(ann.id, "password-123", "new-password-456");
        const login = (id: string, password: string) =>
          internal.verifyCredentials({ identity: { case: "userId", value: id }, password });
        await assert.rejects(login(ann.id, "password-123"), isCode(Code.UNAUTHENTICATED));
        assert.equal((await login(ann.id, "new-password-456")).userId, ann.id);
        assert.equal((await login(bob.id, "bob-password")).userId, bob.id);
        const [row] = await db.sql<{ updated_at: Date | null }[]>`
        select updated_at from users where id = ${ann.id}`;
        assert.ok(row!.updated_at instanceof Date);
      },
    );

    await t.step(
      "VerifyCredentials names the credential version; ChangePassword replaces and revokes it",
      async () => {
        const login = (id: string, password: string) =>
          internal.verifyCredentials({ identity: { case: "userId", value: id }, password });
        const before = (await login(bob.id, "bob-password")).credentialVersion;
        assert.match(before, /^[0-9a-f]{32}$/);
        await internal.changePassword({
          userId: bob.id,
          currentPassword: "bob-password",
          newPassword: "bob-new-password",
        });
        const after = (await login(bob.id, "bob-new-password")).credentialVersion;
        assert.notEqual(after, before);
        const { revoked } = await internal.listRevokedCredentials({ maxAgeSeconds: 60 });
        assert.ok(revoked.some((r) => r.userId === bob.id && r.credentialVersion === before));
        assert.ok(!revoked.some((r) => r.credentialVersion === after));
        await db.sql`update revoked_credentials set revoked_at = now() - interval '2 minutes'`;
        assert.deepEqual(
          (await internal.listRevokedCredentials({ maxAgeSeconds: 60 })).revoked,
          [],
          "older than the tokens' lifetime: no longer listed",
        );
      },
    );

    await t.step("bootstrapAdmin creates the admin once, across restarts", async () => {
      const admin = { email: "admin@stocklet.local", password: "first-admin-passphrase" };
      const first = await bootstrapAdmin(db.sql, admin);
      const second = await bootstrapAdmin(db.sql, admin);
      assert.equal(first.outcome, "created");
      assert.equal(second.outcome, "unchanged");
      const rows = await db.sql<{ id: string; roles: string[]; first_name: string }[]>`
        select id, roles, first_name from users where lower(email) = 'admin@stocklet.local'`;
      assert.equal(rows.length, 1);
      assert.deepEqual(rows[0]!.roles, ["admin"]);
      assert.equal(rows[0]!.first_name, "Stocklet");
      assert.equal((await seenEvents(db, rows[0]!.id)).length, 1);
      const v = await internal.verifyCredentials({
        identity: { case: "email", value: admin.email },
        password: admin.password,
      });
      assert.deepEqual(v.roles, ["admin"]);
    });

    await t.step(
      "bootstrapAdmin applies a password the operator sets later, once (issue 13 #7)",
      async () => {
        const email = "admin@stocklet.local";
        const login = (password: string) =>
          internal.verifyCredentials({ identity: { case: "email", value: email }, password });
        const before = (await login("first-admin-passphrase")).credentialVersion;
        // The operator sets a new STOCKLET_ADMIN_PASSWORD and restarts: it is applied, and the
        // admin's tokens are revoked.
        const applied = await bootstrapAdmin(db.sql, { email, password: "second-admin-phrase" });
        assert.equal(applied.outcome, "password applied");
        await assert.rejects(login("first-admin-passphrase"), isCode(Code.UNAUTHENTICATED));
        assert.notEqual((await login("second-admin-phrase")).credentialVersion, before);
        const { revoked } = await internal.listRevokedCredentials({ maxAgeSeconds: 60 });
        assert.ok(revoked.some((r) => r.credentialVersion === before));
        // The admin then changes the password through the API: a restart with the same
        // configuration keeps the admin's choice.
        await internal.changePassword({
          userId: applied.user.id,
          currentPassword: "second-admin-phrase",
          newPassword: "admins-own-choice",
        });
        const again = await bootstrapAdmin(db.sql, { email, password: "second-admin-phrase" });
        assert.equal(again.outcome, "unchanged");
        assert.equal((await login("admins-own-choice")).userId, applied.user.id);
        const [row] = await db.sql<{ configured_password_hash: string }[]>`
          select configured_password_hash from admin_bootstrap where email = ${email}`;
        assert.ok(await verifyPassword("second-admin-phrase", row!.configured_password_hash));
      },
    );

    await t.step("bootstrapAdmin: two instances at once make one admin", async () => {
      const admin = { email: "ops@stocklet.local", password: "ops-passphrase-1" };
      const outcomes = await Promise.all([
        bootstrapAdmin(db.sql, admin),
        bootstrapAdmin(db.sql, admin),
        bootstrapAdmin(db.sql, admin),
      ]);
      assert.deepEqual(outcomes.map((o) => o.outcome).sort(), [
        "created",
        "unchanged",
        "unchanged",
      ]);
      const rows = await db.sql`select id from users where email = 'ops@stocklet.local'`;
      assert.equal(rows.length, 1);
      assert.equal((await seenEvents(db, rows[0]!.id as string)).length, 1);
    });

    await t.step(
      "bootstrapAdmin never promotes an account someone registered with the admin email (issue 13 #7)",
      async () => {
        await register("boss@example.com", "boss-password");
        const before = await findUserByEmail(db.sql, "boss@example.com");
        await assert.rejects(
          bootstrapAdmin(db.sql, { email: "Boss@Example.com", password: "the-real-admin-pw" }),
          (e: unknown) => e instanceof AdminEmailTaken && /choose another address/.test(e.message),
        );
        assert.deepEqual(await findUserByEmail(db.sql, "boss@example.com"), before);
        const v = await internal.verifyCredentials({
          identity: { case: "email", value: "boss@example.com" },
          password: "boss-password",
        });
        assert.deepEqual(v.roles, ["customer"]);
      },
    );
  } finally {
    internal.close();
    await grpc.close(1000);
    await db.drop();
  }
});

Deno.test("adminPasswordProblem() refuses short, published, monotonous or email passwords", () => {
  const email = "ops@example.com";
  assert.match(adminPasswordProblem("short-pw", email)!, /at least 12/);
  assert.match(adminPasswordProblem("stocklet-admin", email)!, /published/);
  assert.match(adminPasswordProblem("Test-Admin-Password", email)!, /published/);
  assert.match(adminPasswordProblem("aaaaaaaaaaaaaaaa", email)!, /different characters/);
  assert.match(adminPasswordProblem("ops@example.com", email)!, /email/);
  assert.match(adminPasswordProblem("x".repeat(129), email)!, /at most 128/);
  assert.equal(adminPasswordProblem("vivid-otter-harbour-42", email), undefined);
});
