import assert from "node:assert/strict";
import { SERVICES } from "@stocklet/shared/topology";
import { tamper, type TestKeys, testKeys, unsignedToken } from "@stocklet/testing/tokens";
import type { AccessEntry } from "./access_log.ts";
import { edgeHandler, type EdgeOptions } from "./app.ts";
import { DEFAULT_BODY_LIMIT_BYTES, DEFAULT_RATE_LIMITS } from "./policy.ts";
import { edgeRoutes } from "./routes.ts";
import { closedPort, droppingUpstream, type FakeUpstreams, fakeUpstreams } from "./testing.ts";

interface Harness {
  url: string;
  fakes: FakeUpstreams;
  kit: TestKeys;
  log: AccessEntry[];
  close(): Promise<void>;
}

/** The edge on an ephemeral port in front of fake upstreams. */
async function harness(overrides: Partial<EdgeOptions> = {}): Promise<Harness> {
  const fakes = fakeUpstreams();
  const kit = await testKeys();
  const log: AccessEntry[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    edgeHandler({
      upstreams: fakes.urls,
      verifier: kit.verifier,
      accessLog: (e) => log.push(e),
      ...overrides,
    }),
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    fakes,
    kit,
    log,
    async close() {
      await server.shutdown();
      await fakes.close();
    },
  };
}

async function call(
  h: Harness,
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const res = await fetch(h.url + path, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : {} };
}

function bearer(token: string): RequestInit {
  return { headers: { authorization: `Bearer ${token}` } };
}

function assertErrorBody(json: Record<string, unknown>, code: number): void {
  assert.equal(json.code, code);
  assert.equal(typeof json.message, "string");
  assert.deepEqual(json.details, []);
}

Deno.test("edge: a request without a token passes to the service", async () => {
  const h = await harness();
  try {
    const r = await call(h, "/v1/product/list?pageSize=5");
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { service: "product", url: "/v1/product/list?pageSize=5" });
    assert.equal(h.fakes.seen.length, 1);
    assert.equal(h.fakes.seen[0]!.headers.get("authorization"), null);
  } finally {
    await h.close();
  }
});

Deno.test("edge: a valid token passes and the Authorization header is forwarded", async () => {
  const h = await harness();
  try {
    const token = await h.kit.sign();
    const r = await call(h, "/v1/order/list", bearer(token));
    assert.equal(r.status, 200);
    assert.equal(h.fakes.seen[0]!.headers.get("authorization"), `Bearer ${token}`);
  } finally {
    await h.close();
  }
});

Deno.test("edge: bad tokens are answered 401 without reaching the service", async (t) => {
  const h = await harness();
  try {
    const now = Math.floor(Date.now() / 1000);
    const valid = await h.kit.sign({ sub: "a" });
    const other = await (await testKeys()).sign();
    const cases: Record<string, string> = {
      "expired": `Bearer ${await h.kit.sign({ iat: now - 600, exp: now - 60 })}`,
      "tampered": `Bearer ${tamper(valid, { sub: "b", roles: ["admin"] })}`,
      "alg none": `Bearer ${unsignedToken({ sub: "a", roles: ["admin"], exp: now + 60 })}`,
      "signed by another key": `Bearer ${other}`,
      "wrong issuer": `Bearer ${await h.kit.sign({ iss: "someone-else" })}`,
      "wrong audience": `Bearer ${await h.kit.sign({ aud: "other" })}`,
      "garbage": "Bearer not-a-jwt",
      "not a bearer token": "Basic dXNlcjpwYXNz",
    };
    for (const [name, authorization] of Object.entries(cases)) {
      await t.step(name, async () => {
        // A public route: the edge must still refuse a token that is sent and invalid.
        const r = await call(h, "/v1/product/list", { headers: { authorization } });
        assert.equal(r.status, 401);
        assertErrorBody(r.json, 16);
        assert.match(r.headers.get("www-authenticate") ?? "", /^Bearer/);
        assert.ok(r.headers.get("x-request-id"));
      });
    }
    assert.equal(h.fakes.seen.length, 0, "no bad token may reach a service");
  } finally {
    await h.close();
  }
});

Deno.test("edge: a verified token is remembered, not re-verified per request", async () => {
  let verifications = 0;
  const kit = await testKeys();
  const h = await harness({
    verifier: {
      verify(token) {
        verifications++;
        return kit.verifier.verify(token);
      },
    },
  });
  try {
    const token = await kit.sign();
    for (let i = 0; i < 5; i++) {
      assert.equal((await call(h, "/v1/order/list", bearer(token))).status, 200);
    }
    assert.equal(verifications, 1);
  } finally {
    await h.close();
  }
});

Deno.test("edge: client-supplied identity headers are stripped", async () => {
  const h = await harness();
  try {
    const forged = {
      "x-jwt-payload": btoa(JSON.stringify({ sub: "victim", roles: ["admin"] })),
      "x-user-id": "victim",
      "x-user-roles": "admin",
      "x-forwarded-user": "victim",
      "x-auth-request-user": "victim",
      "X-Auth-Roles": "admin",
      "x-jwt-claims": "{}",
      "x-user-email": "victim@example.com",
      "x-remote-user": "victim",
      "x_user_id": "victim",
      "x-custom": "kept",
    };
    const r = await call(h, "/v1/order/list", { headers: forged });
    assert.equal(r.status, 200);
    const seen = h.fakes.seen[0]!.headers;
    for (const name of Object.keys(forged)) {
      if (name === "x-custom") continue;
      assert.equal(seen.get(name), null, `${name} must not reach the service`);
    }
    assert.equal(seen.get("x-custom"), "kept");
    assert.equal(seen.get("x-forwarded-for"), "127.0.0.1");
  } finally {
    await h.close();
  }
});

Deno.test("edge: x-request-id is generated, or kept when sane, and echoed", async () => {
  const h = await harness();
  try {
    const generated = await call(h, "/v1/product/list");
    const id = generated.headers.get("x-request-id");
    assert.match(id ?? "", /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(h.fakes.seen[0]!.headers.get("x-request-id"), id);

    const kept = await call(h, "/v1/product/list", { headers: { "x-request-id": "req-abc.123" } });
    assert.equal(kept.headers.get("x-request-id"), "req-abc.123");
    assert.equal(h.fakes.seen[1]!.headers.get("x-request-id"), "req-abc.123");

    const insane = "x".repeat(300);
    const replaced = await call(h, "/v1/product/list", { headers: { "x-request-id": insane } });
    assert.notEqual(replaced.headers.get("x-request-id"), insane);
    assert.equal(
      h.fakes.seen[2]!.headers.get("x-request-id"),
      replaced.headers.get("x-request-id"),
    );

    // Errors answered by the edge carry one too.
    const missing = await call(h, "/nowhere", { headers: { "x-request-id": "req-404" } });
    assert.equal(missing.headers.get("x-request-id"), "req-404");
  } finally {
    await h.close();
  }
});

Deno.test("edge: W3C traceparent is forwarded", async () => {
  const h = await harness();
  try {
    const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    await call(h, "/v1/product/list", { headers: { traceparent } });
    // Without OTEL_DENO the edge passes the client's header through; with it, Deno's fetch
    // injects the edge's span, a child in the same trace.
    const seen = h.fakes.seen[0]!.headers.get("traceparent") ?? "";
    assert.match(seen, /^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
  } finally {
    await h.close();
  }
});

Deno.test("edge: bodies are forwarded; a body over the limit is 413", async () => {
  const h = await harness({ bodyLimitBytes: 1024 });
  try {
    const cart = { "0190c1d2-0000-7000-8000-0000000000aa": 2 };
    const ok = await call(h, "/v1/order/place", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(cart),
    });
    assert.equal(ok.status, 200);
    assert.deepEqual(JSON.parse(h.fakes.seen[0]!.body), cart);
    assert.equal(h.fakes.seen[0]!.headers.get("content-type"), "application/json");

    const big = "x".repeat(2048);
    const declared = await call(h, "/v1/auth/login", { method: "POST", body: big });
    assert.equal(declared.status, 413);
    assertErrorBody(declared.json, 8);

    // Chunked, no content-length: refused while streaming.
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 4; i++) c.enqueue(new TextEncoder().encode("y".repeat(512)));
        c.close();
      },
    });
    const chunked = await call(h, "/v1/auth/login", { method: "POST", body: stream });
    assert.equal(chunked.status, 413);
    assertErrorBody(chunked.json, 8);
    assert.equal(h.fakes.seen.length, 1, "oversized bodies never reach a service");
  } finally {
    await h.close();
  }
});

Deno.test("edge: the default body limit is 1 MiB", async () => {
  const h = await harness();
  try {
    const r = await call(h, "/v1/auth/login", {
      method: "POST",
      body: new Uint8Array(DEFAULT_BODY_LIMIT_BYTES + 1),
    });
    assert.equal(r.status, 413);
    const fits = await call(h, "/v1/auth/login", {
      method: "POST",
      body: new Uint8Array(DEFAULT_BODY_LIMIT_BYTES),
    });
    assert.equal(fits.status, 200);
  } finally {
    await h.close();
  }
});

Deno.test("edge: an upstream that refuses the connection is 502", async () => {
  const h = await harness({ upstreams: fakeUrlsWith(closedPort()) });
  try {
    const r = await call(h, "/v1/warehouse/service");
    assert.equal(r.status, 502);
    assertErrorBody(r.json, 14);
    assert.match(String(r.json.message), /warehouse refused the connection/);
    assert.equal(h.log.at(-1)?.status, 502);
    assert.match(h.log.at(-1)?.error ?? "", /Connection refused/i);
  } finally {
    await h.close();
  }
});

function fakeUrlsWith(port: number): EdgeOptions["upstreams"] {
  return Object.fromEntries(
    SERVICES.map((s) => [s.name, `http://127.0.0.1:${port}`]),
  ) as EdgeOptions["upstreams"];
}

Deno.test("edge: an upstream that cannot be resolved is 503", async () => {
  const h = await harness({
    upstreams: Object.fromEntries(
      SERVICES.map((s) => [s.name, "http://no-such-host.invalid:1"]),
    ) as EdgeOptions["upstreams"],
  });
  try {
    const r = await call(h, "/v1/user/service");
    assert.equal(r.status, 503);
    assertErrorBody(r.json, 14);
  } finally {
    await h.close();
  }
});

Deno.test("edge: an upstream that does not answer in time is 504", async () => {
  const h = await harness({ routes: edgeRoutes({ timeoutMs: 150 }) });
  try {
    h.fakes.reply = async () => {
      await new Promise((r) => setTimeout(r, 600));
      return new Response("late");
    };
    const t0 = performance.now();
    const r = await call(h, "/v1/product/list");
    assert.equal(r.status, 504);
    assertErrorBody(r.json, 4);
    assert.ok(performance.now() - t0 < 550, "the edge gives up at the route's timeout");
  } finally {
    await h.close();
  }
});

Deno.test("edge: upstream statuses, headers and error bodies pass through", async () => {
  const h = await harness();
  try {
    h.fakes.reply = () =>
      Response.json({ code: 7, message: "admin role required", details: [] }, {
        status: 403,
        headers: { "x-upstream": "yes" },
      });
    const r = await call(h, "/v1/product", { method: "POST", body: "{}" });
    assert.equal(r.status, 403);
    assert.deepEqual(r.json, { code: 7, message: "admin role required", details: [] });
    assert.equal(r.headers.get("x-upstream"), "yes");
  } finally {
    await h.close();
  }
});

Deno.test("edge: every public route reaches its own service with its path", async () => {
  const h = await harness();
  try {
    for (const route of edgeRoutes()) {
      const path = route.template.replace(/\{[^}]+\}/g, "0190c1d2-0000-7000-8000-0000000000ff");
      const r = await call(h, path, { method: route.verb, ...(route.body ? { body: "{}" } : {}) });
      assert.equal(r.status, 200, `${route.verb} ${path}`);
      assert.deepEqual(r.json, { service: route.service, url: path });
    }
  } finally {
    await h.close();
  }
});

Deno.test("edge: unknown paths and verbs are 404 in the error shape", async () => {
  const h = await harness();
  try {
    for (
      const [method, path] of [
        ["GET", "/v1/order/nope"],
        ["GET", "/readyz"],
        ["GET", "/v1/product/list/"],
        ["GET", "/v1/product/a/b"],
        ["DELETE", "/v1/product/abc"],
        ["GET", "/v1/order/place"],
        ["GET", "/v2/product/list"],
        ["GET", "/"],
      ] as const
    ) {
      const r = await call(h, path, { method });
      assert.equal(r.status, 404, `${method} ${path}`);
      assertErrorBody(r.json, 5);
    }
    assert.equal(h.fakes.seen.length, 0);
  } finally {
    await h.close();
  }
});

/** A fake web front: pages answer at once; `/events/…` streams a chunk every 100 ms. */
function fakeWeb(): { url: string; seen: string[]; close(): Promise<void> } {
  const seen: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const u = new URL(req.url);
    seen.push(u.pathname + u.search);
    if (!u.pathname.startsWith("/events/")) {
      return new Response(`<p>${u.pathname}</p>`, { headers: { "content-type": "text/html" } });
    }
    let n = 0;
    let timer: ReturnType<typeof setInterval> | undefined;
    const body = new ReadableStream<Uint8Array>({
      start(ctl) {
        timer = setInterval(() => {
          ctl.enqueue(new TextEncoder().encode(`data: ${n++}\n\n`));
          if (n === 5) {
            clearInterval(timer);
            ctl.close();
          }
        }, 100);
      },
      cancel: () => clearInterval(timer),
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    seen,
    close: () => server.shutdown(),
  };
}

Deno.test("edge: paths outside /v1/ go to the web front; unknown API paths stay 404", async () => {
  const web = fakeWeb();
  const h = await harness({ web: web.url });
  try {
    for (const path of ["/", "/products/abc?x=1", "/static/app.css", "/v2/x"]) {
      const res = await fetch(h.url + path);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get("content-type"), "text/html");
      assert.equal(await res.text(), `<p>${new URL(path, h.url).pathname}</p>`);
    }
    assert.deepEqual(web.seen, ["/", "/products/abc?x=1", "/static/app.css", "/v2/x"]);
    // The API's own namespace never reaches the web front, nor do the edge's own paths.
    for (const path of ["/v1/order/nope", "/v1", "/healthz", "/openapi.json"]) {
      const r = await fetch(h.url + path);
      await r.body?.cancel();
      assert.equal(r.status, path.startsWith("/v1") ? 404 : 200, path);
    }
    assert.equal(web.seen.length, 4);
    assert.equal(h.log.at(-5)?.upstream, "web");
  } finally {
    await h.close();
    await web.close();
  }
});

Deno.test("edge: the web front's streams outlive the upstream timeout", async () => {
  const web = fakeWeb();
  const h = await harness({ web: web.url, timeoutMs: 150 });
  try {
    const res = await fetch(h.url + "/events/orders/x");
    assert.equal(res.status, 200);
    // Five chunks 100 ms apart: the stream runs past the 150 ms timeout and ends whole.
    assert.equal(await res.text(), [0, 1, 2, 3, 4].map((n) => `data: ${n}\n\n`).join(""));
  } finally {
    await h.close();
    await web.close();
  }
});

Deno.test("edge: dot segments are resolved before routing", async () => {
  const h = await harness();
  try {
    // fetch normalises paths itself: send the raw request over a socket.
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(new URL(h.url).port) });
    await conn.write(
      new TextEncoder().encode(
        "GET /v1/auth/%2e%2e/product/list HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
      ),
    );
    const raw = new TextDecoder().decode(await new Response(conn.readable).arrayBuffer());
    assert.match(raw, /^HTTP\/1\.1 200/);
    assert.equal(h.fakes.seen.at(-1)?.url, "/v1/product/list");
  } finally {
    await h.close();
  }
});

Deno.test("edge: CORS preflight is answered at the edge; responses carry CORS headers", async () => {
  const h = await harness();
  try {
    const pre = await fetch(`${h.url}/v1/order/place`, {
      method: "OPTIONS",
      headers: {
        origin: "http://shop.localhost:3000",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
      },
    });
    await pre.body?.cancel();
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get("access-control-allow-origin"), "*");
    assert.match(pre.headers.get("access-control-allow-methods") ?? "", /POST/);
    assert.match(pre.headers.get("access-control-allow-headers") ?? "", /authorization/);
    assert.ok(pre.headers.get("access-control-max-age"));
    assert.equal(h.fakes.seen.length, 0, "preflights never reach a service");

    const r = await call(h, "/v1/product/list", {
      headers: { origin: "http://shop.localhost:3000" },
    });
    assert.equal(r.headers.get("access-control-allow-origin"), "*");
    assert.match(r.headers.get("access-control-expose-headers") ?? "", /x-request-id/);
    // A 401 from the edge is readable by the browser too.
    const denied = await call(h, "/v1/product/list", {
      headers: { origin: "http://shop.localhost:3000", authorization: "Bearer x" },
    });
    assert.equal(denied.status, 401);
    assert.equal(denied.headers.get("access-control-allow-origin"), "*");
  } finally {
    await h.close();
  }
});

Deno.test("edge: CORS with a list of origins allows only those", async () => {
  const h = await harness({ corsOrigins: ["https://shop.example"] });
  try {
    const preflight = (origin: string) =>
      fetch(`${h.url}/v1/order/place`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST" },
      });
    const ok = await preflight("https://shop.example");
    await ok.body?.cancel();
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get("access-control-allow-origin"), "https://shop.example");
    assert.match(ok.headers.get("vary") ?? "", /origin/i);
    const bad = await preflight("https://evil.example");
    await bad.body?.cancel();
    assert.equal(bad.status, 403);
    assert.equal(bad.headers.get("access-control-allow-origin"), null);
    const r = await call(h, "/v1/product/list", { headers: { origin: "https://evil.example" } });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("access-control-allow-origin"), null);
  } finally {
    await h.close();
  }
});

Deno.test("edge: /healthz and /openapi.json are served by the edge itself", async () => {
  const h = await harness({ openapi: '{"openapi":"3.0.3"}' });
  try {
    const health = await call(h, "/healthz");
    assert.equal(health.status, 200);
    assert.deepEqual(health.json, { status: "ok" });
    const doc = await call(h, "/openapi.json");
    assert.equal(doc.status, 200);
    assert.equal(doc.headers.get("content-type"), "application/json");
    assert.deepEqual(doc.json, { openapi: "3.0.3" });
    assert.equal(h.fakes.seen.length, 0);
  } finally {
    await h.close();
  }
});

Deno.test("edge: one access log line per request", async () => {
  const h = await harness();
  try {
    await call(h, "/v1/product/list", { headers: { "x-request-id": "log-1" } });
    await call(h, "/nope", { headers: { "x-request-id": "log-2" } });
    assert.equal(h.log.length, 2);
    const [a, b] = h.log;
    assert.deepEqual(
      { ...a, durationMs: 0 },
      {
        method: "GET",
        path: "/v1/product/list",
        status: 200,
        durationMs: 0,
        requestId: "log-1",
        upstream: "product",
        route: "/v1/product/list",
      },
    );
    assert.ok(a!.durationMs >= 0);
    assert.equal(b!.status, 404);
    assert.equal(b!.upstream, undefined);
  } finally {
    await h.close();
  }
});

Deno.test("edge: rate limits answer 429 with Retry-After per address and per login account (issue 13 #4)", async () => {
  const h = await harness({
    rateLimits: {
      ...DEFAULT_RATE_LIMITS,
      "login-account": { requests: 3, windowSeconds: 300 },
      "register-address": { requests: 2, windowSeconds: 600 },
    },
  });
  try {
    h.fakes.reply = () => Response.json({ code: 16, message: "no", details: [] }, { status: 401 });
    const login = (email: string) =>
      call(h, "/v1/auth/login", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email, password: "guess" }),
      });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await login("Victim@Example.com")).status);
    assert.deepEqual(statuses, [401, 401, 401, 429, 429, 429]);
    const refused = await login("victim@example.com");
    assert.equal(refused.status, 429, "the same account in another case");
    assert.equal(refused.json.code, 8);
    assert.match(String(refused.json.message), /login attempts for this account/);
    const wait = Number(refused.headers.get("retry-after"));
    assert.ok(wait >= 1 && wait <= 100, `Retry-After ${wait}`);
    // Refused logins never reached the auth service; the forwarded ones carried their body.
    const seen = h.fakes.seen.filter((r) => r.url === "/v1/auth/login");
    assert.equal(seen.length, 3);
    assert.equal(JSON.parse(seen[0]!.body).email, "Victim@Example.com");
    // Another account from the same address is not locked out.
    assert.equal((await login("someone-else@example.com")).status, 401);

    h.fakes.reply = undefined;
    const register = () =>
      call(h, "/v1/user/register", { method: "POST", body: JSON.stringify({}) });
    assert.deepEqual(
      [(await register()).status, (await register()).status, (await register()).status],
      [200, 200, 429],
    );
    // Reads are only under the generous per-address limit.
    assert.equal((await call(h, "/v1/product/list")).status, 200);
    // The edge's own endpoints are never limited.
    assert.equal((await call(h, "/healthz")).status, 200);
  } finally {
    await h.close();
  }
});

Deno.test("edge: without rate limits (the load-test switch) nothing is ever refused", async () => {
  const h = await harness({ rateLimits: false });
  try {
    for (let i = 0; i < 40; i++) {
      const r = await call(h, "/v1/auth/login", {
        method: "POST",
        body: JSON.stringify({ email: "a@b.co", password: "x" }),
      });
      assert.equal(r.status, 200);
    }
  } finally {
    await h.close();
  }
});

Deno.test("edge: a GET a replica dropped goes to another; a POST is never sent twice", async () => {
  const fakes = fakeUpstreams();
  const dying = droppingUpstream();
  const h = await harness({ upstreams: { ...fakes.urls, order: [dying.url, fakes.urls.order] } });
  try {
    const customer = "0195a7c4-0000-7000-8000-0000000000aa";
    const token = await h.kit.sign({ sub: customer });
    const order = "0195a7c4-0000-7000-8000-000000000042";
    // Round robin starts at the dying replica: it reads the GET and drops it; the other answers.
    const got = await call(h, `/v1/order/orders/${order}`, bearer(token));
    assert.equal(got.status, 200, JSON.stringify(got.json));
    assert.equal(dying.received(), 1);
    assert.equal(fakes.seen.filter((s) => s.method === "GET").length, 1);
    // Its turn again: a POST it dropped may have been applied there, so it is not sent on.
    const placed = await call(h, "/v1/order/place", {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ "0195a7c4-0000-7000-8000-000000000001": 1 }),
    });
    assert.equal(placed.status, 502, JSON.stringify(placed.json));
    assert.match(String(placed.json.message), /closed the connection/);
    assert.equal(dying.received(), 2);
    assert.equal(fakes.seen.filter((s) => s.method === "POST").length, 0, "never sent twice");
  } finally {
    dying.close();
    await h.close();
    await fakes.close();
  }
});

Deno.test("edge: requests go round robin over a service's replicas, past one that is gone", async () => {
  const fakes = fakeUpstreams();
  const gone = `http://127.0.0.1:${closedPort()}`;
  const h = await harness({
    upstreams: { ...fakes.urls, order: [gone, fakes.urls.order, fakes.urls.order] },
  });
  try {
    const cart = JSON.stringify({ "0195a7c4-0000-7000-8000-000000000001": 2 });
    const token = await h.kit.sign({ sub: "0195a7c4-0000-7000-8000-0000000000aa" });
    for (let i = 0; i < 4; i++) {
      const r = await call(h, "/v1/order/place", {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: cart,
      });
      assert.equal(r.status, 200, `request ${i}: ${JSON.stringify(r.json)}`);
    }
    // The replica that refused never got a request, and every body arrived whole at the others.
    const placed = fakes.seen.filter((s) => s.url === "/v1/order/place");
    assert.equal(placed.length, 4);
    assert.ok(placed.every((s) => s.body === cart));
  } finally {
    await h.close();
    await fakes.close();
  }
});

Deno.test("edge: a service at capacity is shed at the edge for a window, per route", async () => {
  const h = await harness({ shedWindowMs: 300 });
  try {
    const busy = { code: 8, message: "too many orders in progress (500)", details: [] };
    h.fakes.reply = (req) =>
      req.url.startsWith("/v1/order/place")
        ? Response.json(busy, {
          status: 429,
          headers: { "retry-after": "1", "x-stocklet-at-capacity": "1" },
        })
        : Response.json({ ok: true });
    const place = () => call(h, "/v1/order/place", { method: "POST", body: "{}" });
    const first = await place();
    assert.equal(first.status, 429);
    assert.deepEqual(first.json, busy);
    const forwarded = h.fakes.seen.length;
    const second = await place();
    assert.equal(second.status, 429, "refused by the edge");
    assert.deepEqual(second.json, busy, "in the service's own words");
    assert.equal(second.headers.get("retry-after"), "1");
    assert.equal(h.fakes.seen.length, forwarded, "not forwarded");
    // Another route of the same service is not shed.
    assert.equal((await call(h, "/v1/order/list")).status, 200);
    assert.equal(h.fakes.seen.length, forwarded + 1);
    // After the window the route is forwarded again.
    await new Promise((r) => setTimeout(r, 350));
    h.fakes.reply = () => Response.json({ order: {} });
    assert.equal((await place()).status, 200);
  } finally {
    await h.close();
  }
});

/**
 * Sends raw HTTP/1.1 requests ("POST /path") on one connection; each answer's status line and
 * headers as they were written on the wire.
 */
async function onOneConnection(url: string, requests: string[]): Promise<string[]> {
  const { hostname, port } = new URL(url);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  const heads: string[] = [];
  // Bytes read but not yet consumed: an answer may arrive in pieces, or with the next one's start.
  let pending = new Uint8Array(0);
  const more = async (): Promise<boolean> => {
    const buf = new Uint8Array(64 * 1024);
    const n = await conn.read(buf);
    if (n === null) return false;
    const joined = new Uint8Array(pending.length + n);
    joined.set(pending);
    joined.set(buf.subarray(0, n), pending.length);
    pending = joined;
    return true;
  };
  try {
    for (const line of requests) {
      const request = `${line} HTTP/1.1\r\nhost: edge\r\ncontent-length: 2\r\n\r\n{}`;
      await conn.write(new TextEncoder().encode(request));
      let end = -1;
      while ((end = new TextDecoder().decode(pending).indexOf("\r\n\r\n")) < 0) {
        if (!(await more())) throw new Error(`closed before answering ${line}`);
      }
      const head = new TextDecoder().decode(pending).slice(0, end).toLowerCase();
      const length = Number(/^content-length: (\d+)$/m.exec(head)?.[1] ?? 0);
      while (pending.length < end + 4 + length) await more();
      pending = pending.subarray(end + 4 + length);
      heads.push(head);
    }
  } finally {
    conn.close();
  }
  return heads;
}

Deno.test("edge: a caller it sheds is told to close its connection (bound 0: always), others keep theirs", async () => {
  const h = await harness({ shedWindowMs: 10_000, closeRefusedAbove: 0 });
  try {
    h.fakes.reply = (req) =>
      req.url.startsWith("/v1/order/place")
        ? Response.json({ code: 8, message: "too many orders in progress (256)", details: [] }, {
          status: 429,
          headers: { "retry-after": "1", "x-stocklet-at-capacity": "1" },
        })
        : Response.json({ ok: true });
    const kept = await onOneConnection(h.url, ["GET /v1/product/list", "GET /v1/product/list"]);
    assert.deepEqual(kept.map((head) => head.split("\r\n")[0]), [
      "http/1.1 200 ok",
      "http/1.1 200 ok",
    ]);
    for (const head of kept) assert.doesNotMatch(head, /^connection: close$/m);

    assert.equal((await call(h, "/v1/order/place", { method: "POST", body: "{}" })).status, 429);
    const [shed] = await onOneConnection(h.url, ["POST /v1/order/place"]);
    assert.match(shed!, /^http\/1\.1 429 /);
    assert.match(shed!, /^x-stocklet-at-capacity: 1$/m, "refused by the edge itself");
    assert.match(shed!, /^connection: close$/m);
    // A client that honours it (fetch, as the bench's load generator) opens a new one next time.
    const ports = new Set<number>();
    const counting = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req, info) => {
      ports.add(info.remoteAddr.port);
      return edge(req);
    });
    const edge = edgeHandler({
      upstreams: h.fakes.urls,
      verifier: h.kit.verifier,
      shedWindowMs: 10_000,
      closeRefusedAbove: 0,
    });
    try {
      const url = `http://127.0.0.1:${counting.addr.port}/v1/order/place`;
      for (let i = 0; i < 4; i++) {
        await (await fetch(url, { method: "POST", body: "{}" })).body?.cancel();
      }
      assert.equal(ports.size, 4, "each refused call came on a connection of its own");
    } finally {
      await counting.shutdown();
    }
  } finally {
    await h.close();
  }
});

Deno.test("edge: a caller it sheds keeps its connection until more than the bound are in use", async () => {
  const h = await harness({ shedWindowMs: 10_000, closeRefusedAbove: 2 });
  try {
    h.fakes.reply = () =>
      Response.json({ code: 8, message: "too many orders in progress (256)", details: [] }, {
        status: 429,
        headers: { "retry-after": "1", "x-stocklet-at-capacity": "1" },
      });
    // One connection in use: refused three times on it, and it stays open.
    const alone = await onOneConnection(h.url, [
      "POST /v1/order/place",
      "POST /v1/order/place",
      "POST /v1/order/place",
    ]);
    assert.equal(alone.length, 3);
    for (const head of alone) {
      assert.match(head, /^http\/1\.1 429 /);
      assert.doesNotMatch(head, /^connection: close$/m);
    }
    // Three more connections, each sending a request within the second: now the edge is crowded
    // (four in use against a bound of two) and a refusal tells its caller to close.
    const crowded = await Promise.all(
      [0, 1, 2].map(() => onOneConnection(h.url, ["POST /v1/order/place"])),
    );
    const closes = crowded.map(([head]) => /^connection: close$/m.test(head!));
    // The second and third of them to arrive found three and four in use.
    assert.ok(closes.filter(Boolean).length >= 2, `told to close: ${closes}`);
    const [last] = await onOneConnection(h.url, ["POST /v1/order/place"]);
    assert.match(last!, /^connection: close$/m);
  } finally {
    await h.close();
  }
});

Deno.test("edge: a 429 about one caller (no at-capacity mark) sheds nothing", async () => {
  const h = await harness({ shedWindowMs: 10_000 });
  try {
    h.fakes.reply = () =>
      Response.json({ code: 8, message: "too many attempts", details: [] }, {
        status: 429,
        headers: { "retry-after": "30" },
      });
    const login = () => call(h, "/v1/auth/login", { method: "POST", body: "{}" });
    assert.equal((await login()).status, 429);
    assert.equal((await login()).status, 429);
    assert.equal(h.fakes.seen.length, 2, "both reached the service");
  } finally {
    await h.close();
  }
});

Deno.test("edge: past a service's calls in progress and waiting, the edge answers 503 itself, without forwarding", async () => {
  const h = await harness({ upstreamLimits: { maxRequests: 1, maxPending: 1 } });
  try {
    let release!: () => void;
    const gate = new Promise<void>((r) => release = r);
    h.fakes.reply = async () => {
      await gate;
      return Response.json({ ok: true });
    };
    const place = () => call(h, "/v1/order/place", { method: "POST", body: "{}" });
    const inProgress = place();
    const waiting = place();
    while (h.fakes.seen.length < 1) await new Promise((r) => setTimeout(r, 5));
    const refused = await place();
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get("retry-after"), "1");
    assertErrorBody(refused.json, 14);
    assert.match(String(refused.json.message), /order is at capacity/);
    assert.equal(h.fakes.seen.length, 1, "neither the waiting call nor the refused one forwarded");
    // Another service has its own bound.
    const other = call(h, "/v1/product/list");
    while (h.fakes.seen.length < 2) await new Promise((r) => setTimeout(r, 5));
    release();
    assert.deepEqual([(await inProgress).status, (await waiting).status], [200, 200]);
    assert.equal((await other).status, 200);
    assert.equal(h.fakes.seen.length, 3, "the waiting call went once a place was free");
  } finally {
    await h.close();
  }
});
