/**
 * Issue 13's findings, each reproduced through the edge of the real stack and kept closed: text
 * Postgres cannot store, ids in two spellings, a malformed customer id, unlimited password
 * guessing, tokens that outlive a password change, and a registration that tells who has an
 * account. Every answer is a clear 4xx, never a 5xx, and nothing is written by a refused request.
 */
import assert from "node:assert/strict";
import { loadEdgeConfig } from "../../edge/config.ts";
import { startEdge } from "../../edge/server.ts";
import { DEFAULT_RATE_LIMITS } from "../../edge/policy.ts";
import { type Answer, Api, api, subjectOf, unique } from "@stocklet/testing/stack";
import { assert4xx } from "@stocklet/testing/asserts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test("#1: NUL in any text field is a 400 naming the field, not a 500", opts, async () => {
  const a = await api();
  const admin = await a.adminToken();
  const email = `nul-${unique()}@example.com`;
  for (const field of ["first_name", "last_name", "password"]) {
    const body = {
      first_name: "Ann",
      last_name: "Lee",
      email,
      password: "long-enough-pw",
      [field]: "a\u0000b-and-more",
    };
    assert4xx(await a.call("POST", "/v1/user/register", { body }), 400, field, field);
  }
  for (const field of ["name", "description"]) {
    const body = { name: "Teapot", description: "Short", price_cents: "100", [field]: "x\u0000" };
    assert4xx(await a.call("POST", "/v1/product", { body, token: admin }), 400, field, field);
  }
  const p = await a.product(100);
  assert4xx(
    await a.call("PATCH", `/v1/product/${p}`, { body: { name: "\u0000" }, token: admin }),
    400,
    "update name",
    "name",
  );
  // Nothing was registered under that email.
  assert.equal(
    (await a.call("POST", "/v1/auth/login", { body: { email, password: "long-enough-pw" } }))
      .status,
    401,
  );
});

Deno.test("#2: one product id in two spellings is one product; never a 500", opts, async () => {
  const a = await api();
  const p = await a.product(250, 10);
  const c = await a.customer();
  await a.credit(c.id, 10_000n);
  // Both spellings in one cart: refused, naming the key, nothing placed.
  const both = await a.call("POST", "/v1/order/place", {
    token: c.token,
    body: { [p]: 1, [p.toUpperCase()]: 2 },
  });
  assert4xx(both, 400, "cart with both spellings", `cart["${p.toUpperCase()}"]`);
  assert.match((both.json as { message: string }).message, /case-insensitive/);
  // An upper-case id alone is the same product: the order is approved, not "unavailable".
  const order = await a.place(c, { [p.toUpperCase()]: 2 });
  assert.deepEqual(Object.keys(order.items), [p], "stored in its canonical spelling");
  const settled = await a.settled(c, order.id);
  assert.equal(settled.status, "ORDER_STATUS_APPROVED", JSON.stringify(settled));
  assert.equal(settled.totalPriceCents, "500");
  assert.equal(await a.stock(p), 8);
  // Ids in paths and queries are case-insensitive too.
  const byUpper = await a.call("GET", `/v1/order/orders/${order.id.toUpperCase()}`, {
    token: c.token,
  });
  assert.equal(byUpper.status, 200, JSON.stringify(byUpper.json));
  assert.equal((await a.call("GET", `/v1/product/${p.toUpperCase()}`)).status, 200);
  const balance = await a.call("GET", `/v1/payment/balance/${c.id.toUpperCase()}`, {
    token: c.token,
  });
  assert.equal(balance.status, 200, "the owner, whatever the spelling");
  const listed = await a.call<{ orders: Array<{ id: string }> }>(
    "GET",
    `/v1/order/list?customer_id=${c.id.toUpperCase()}`,
    { token: c.token },
  );
  assert.equal(listed.status, 200);
  assert.deepEqual(listed.json.orders.map((o) => o.id), [order.id]);
});

Deno.test("#3: a customer_id that is not a UUID is a 400, also for an admin", opts, async () => {
  const a = await api();
  const admin = await a.adminToken();
  // The second is schemathesis' finding (seed 13, as admin) that got a 500 before the fix.
  for (
    const bad of [
      "not-a-uuid",
      "0-8Be8Dc575fB090afCf97fcbF19EDec5F2f",
      "-".repeat(36),
      "g".repeat(36),
      "' or 1=1 --",
    ]
  ) {
    const r = await a.call("GET", `/v1/order/list?customer_id=${encodeURIComponent(bad)}`, {
      token: admin,
    });
    assert4xx(r, 400, `customer_id=${bad}`, "customer_id");
  }
  // Empty still means "the caller".
  assert.equal((await a.call("GET", "/v1/order/list?customer_id=", { token: admin })).status, 200);
});

Deno.test(
  "#9: a password change revokes the earlier tokens everywhere, within seconds",
  opts,
  async () => {
    const a = await api();
    const c = await a.customer();
    const other = await a.login(c.email, c.password); // a second session, also to be revoked
    const probe = (token: string) =>
      a.call("GET", `/v1/payment/balance/${c.id}`, { token }).then((r) => r.status);
    assert.equal(await probe(c.token), 200);
    const change = await a.call("POST", "/v1/auth/password", {
      token: c.token,
      body: { current_password: c.password, new_password: "a brand new password" },
    });
    assert.equal(change.status, 200, JSON.stringify(change.json));
    const deadline = Date.now() + 15_000;
    while (await probe(c.token) !== 401) {
      assert.ok(Date.now() < deadline, "the old token still works 15 s after the change");
      await new Promise((r) => setTimeout(r, 200));
    }
    const refused = await a.call("GET", "/v1/order/list", { token: other });
    assert4xx(refused, 401, "the other session");
    assert.match((refused.json as { message: string }).message, /revoked/);
    const fresh = await a.login(c.email, "a brand new password");
    assert.equal(await probe(fresh), 200);
  },
);

Deno.test("#9: registering a taken email answers exactly as a new one", opts, async () => {
  const a = await api();
  const c = await a.customer();
  const taken = await a.call("POST", "/v1/user/register", {
    body: {
      first_name: "Mallory",
      last_name: "M",
      email: c.email.toUpperCase(),
      password: "x".repeat(12),
    },
  });
  const free = await a.call("POST", "/v1/user/register", {
    body: {
      first_name: "New",
      last_name: "Person",
      email: `new-${unique()}@example.com`,
      password: "x".repeat(12),
    },
  });
  assert.equal(taken.status, 200);
  assert.deepEqual(taken.json, free.json);
  // The owner's account is untouched.
  assert.equal(subjectOf(await a.login(c.email, c.password)), c.id);
});

Deno.test(
  "#4: 30 wrong passwords for one account meet 429 with Retry-After at a rate-limited edge",
  opts,
  async () => {
    const a = await api();
    const c = await a.customer();
    // The test stack's edge runs with the load-test switch (limits off); this is the same edge
    // code in front of the same services, with the limits on as a deployment has them.
    const config = loadEdgeConfig({
      ...Object.fromEntries(
        Object.entries(a.stack.ports.http).map(([svc, port]) => [
          `${svc.toUpperCase()}_HTTP_URL`,
          `http://127.0.0.1:${port}`,
        ]),
      ),
      STOCKLET_EDGE_ACCESS_LOG: "false",
      STOCKLET_RATE_LIMIT: "on",
      // The default burst, refilled slowly enough that a slow machine's scrypt cannot refill it
      // between two attempts.
      STOCKLET_RATE_LIMITS: `login-account=${DEFAULT_RATE_LIMITS["login-account"].requests}/3600`,
    });
    const edge = await startEdge({ ...config, port: 0 }, { openapi: "{}" });
    try {
      const limited = new Api({ ...a.stack, edgeUrl: `http://127.0.0.1:${edge.port}` });
      const statuses: number[] = [];
      let last: Answer | undefined;
      for (let i = 0; i < 30; i++) {
        last = await limited.call("POST", "/v1/auth/login", {
          body: { email: c.email, password: `wrong-${i}` },
        });
        statuses.push(last.status);
      }
      const allowed = DEFAULT_RATE_LIMITS["login-account"].requests;
      assert.deepEqual(statuses.slice(0, allowed), Array(allowed).fill(401));
      assert.deepEqual(statuses.slice(allowed), Array(30 - allowed).fill(429));
      assert.ok(Number(last!.headers.get("retry-after")) >= 1, "Retry-After");
      // The right password is refused too until the bucket refills: guessing does not pay.
      const right = await limited.call("POST", "/v1/auth/login", {
        body: { email: c.email, password: c.password },
      });
      assert.equal(right.status, 429);
      // Other accounts are not locked out, and the limits are the edge's only: the services
      // themselves (and the stack's own edge) still answer the owner.
      assert.equal(
        (await limited.call("POST", "/v1/auth/login", {
          body: { email: `nobody-${unique()}@example.com`, password: "x" },
        })).status,
        401,
      );
      assert.equal(subjectOf(await a.login(c.email, c.password)), c.id);
    } finally {
      await edge.stop();
    }
  },
);
