/**
 * The web front through the edge, without a browser: the live order stream (server-sent events
 * fed by the web front's projection), who may see what, the pages' answers and headers, the cart
 * cookie, and the two reads the pages added to the API (admin order search, stock levels).
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { create, toBinary } from "@bufbuild/protobuf";
import { ensureTopics } from "@stocklet/shared/kafka";
import { events } from "@stocklet/shared/proto";
import { api, unique } from "@stocklet/testing/stack";
import { republish, testKafka } from "@stocklet/testing/kafka";

const opts = { sanitizeOps: false, sanitizeResources: false };

const SESSION = "stocklet_session";

function cookie(token: string): Record<string, string> {
  return { cookie: `${SESSION}=${token}` };
}

/** Reads `event: saga` messages of a live order stream until one passes `until`. */
async function followOrder(
  url: string,
  token: string,
  until: (e: { status: string; html: string }) => boolean,
  timeoutMs = 20_000,
): Promise<Array<{ status: string; html: string; at: number }>> {
  const res = await fetch(url, {
    headers: { ...cookie(token), accept: "text/event-stream" },
    signal: AbortSignal.timeout(timeoutMs),
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const got: Array<{ status: string; html: string; at: number }> = [];
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the stream ended after ${got.map((g) => g.status)}`);
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (!frame.startsWith("event: saga\n")) continue;
        const data = JSON.parse(frame.slice(frame.indexOf("data: ") + 6));
        got.push({ status: data.status, html: data.html, at: performance.now() });
        if (until(got.at(-1)!)) return got;
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

const buyer = async (credit: bigint) => (await api()).buyer(credit);

Deno.test(
  "web: an order's page is pushed each step of its saga until it is Approved",
  opts,
  async () => {
    const a = await api();
    const p = await a.product(700, 5);
    const c = await buyer(10_000n);
    const t0 = performance.now();
    const placed = await a.place(c, { [p]: 2 });
    const events = await followOrder(
      `${a.stack.edgeUrl}/events/orders/${placed.id}`,
      c.token,
      (e) => /Order approved/.test(e.html),
    );
    const last = events.at(-1)!;
    assert.equal(last.status, "ORDER_STATUS_APPROVED");
    assert.match(last.html, /Order approved/);
    assert.match(last.html, /Took payment of 14\.00/);
    assert.ok(events.length >= 2, `pushed ${events.length} times: live, not one final answer`);
    const ranks = ["ORDER_STATUS_PROCESSING", "ORDER_STATUS_PENDING", "ORDER_STATUS_APPROVED"];
    const seen = events.map((e) => ranks.indexOf(e.status));
    assert.deepEqual(seen, [...seen].sort((x, y) => x - y), "the status never goes back");
    console.log(
      `  placed → Approved on the page: ${(last.at - t0).toFixed(0)} ms, ${events.length} pushes`,
    );
  },
);

Deno.test("web: a rejected order's stream says why and what was undone", opts, async () => {
  const a = await api();
  const p = await a.product(5_000, 5);
  const c = await buyer(100n);
  const placed = await a.place(c, { [p]: 1 });
  // The compensations follow the rejection: the stream pushes them as they commit.
  const events = await followOrder(
    `${a.stack.edgeUrl}/events/orders/${placed.id}`,
    c.token,
    (e) => /returned ✓/.test(e.html) && /released ✓/.test(e.html),
  );
  const html = events.at(-1)!.html;
  assert.equal(events.at(-1)!.status, "ORDER_STATUS_REJECTED");
  assert.match(html, /Payment of 50\.00 failed: insufficient balance/);
  assert.match(html, /Stock reserved: returned ✓/);
  assert.match(html, /Shipment allocated: released ✓/);
});

Deno.test("web: only the order's customer (or an admin) may follow it", opts, async () => {
  const a = await api();
  const p = await a.product(100, 5);
  const owner = await buyer(1_000n);
  const other = await buyer(0n);
  const placed = await a.place(owner, { [p]: 1 });
  const url = `${a.stack.edgeUrl}/events/orders/${placed.id}`;
  const anonymous = await fetch(url);
  assert.equal(anonymous.status, 401);
  await anonymous.body?.cancel();
  const stranger = await fetch(url, { headers: cookie(other.token) });
  assert.equal(stranger.status, 404, "someone else's order does not exist for you");
  await stranger.body?.cancel();
  const page = await fetch(`${a.stack.edgeUrl}/orders/${placed.id}`, {
    headers: cookie(other.token),
  });
  assert.equal(page.status, 404);
  await page.body?.cancel();
  const admin = await followOrder(url, await a.adminToken(), () => true);
  assert.equal(admin.length, 1);
  const bad = await fetch(`${a.stack.edgeUrl}/events/orders/not-an-id`, {
    headers: cookie(owner.token),
  });
  assert.equal(bad.status, 404);
  await bad.body?.cancel();
});

Deno.test("web: pages answer with their status, HTML and security headers", opts, async () => {
  const a = await api();
  const edge = a.stack.edgeUrl!;
  const c = await buyer(0n);
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(edge + path, { headers, redirect: "manual" });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text };
  };
  const home = await get("/");
  assert.equal(home.status, 200);
  assert.match(home.headers.get("content-type") ?? "", /^text\/html/);
  assert.match(home.headers.get("content-security-policy") ?? "", /script-src 'self'/);
  assert.equal(home.headers.get("cache-control"), "private, no-store");
  assert.match(home.text, /<h1>Catalogue<\/h1>/);
  assert.match(home.text, />Log in</);

  const orders = await get("/orders");
  assert.equal(orders.status, 303);
  assert.equal(orders.headers.get("location"), "/login?next=%2Forders");
  const mine = await get("/orders", cookie(c.token));
  assert.equal(mine.status, 200);
  assert.match(mine.text, />Log out</);

  assert.equal((await get("/admin/orders", cookie(c.token))).status, 403);
  const all = await get("/admin/orders", cookie(await a.adminToken()));
  assert.equal(all.status, 200);
  assert.match(all.text, /All orders/);

  // A token that does not verify is no session: the visitor sees the shop, the cookie goes.
  const forged = await get("/", cookie("e30.e30.e30"));
  assert.equal(forged.status, 200);
  assert.match(forged.headers.get("set-cookie") ?? "", new RegExp(`^${SESSION}=;`));

  for (const path of ["/nowhere", "/products/not-an-id", `/products/${crypto.randomUUID()}`]) {
    const r = await get(path);
    assert.equal(r.status, 404, path);
    assert.match(r.text, /Not found/);
  }
  const api404 = await get("/v1/nowhere");
  assert.equal(api404.status, 404);
  assert.equal(JSON.parse(api404.text).code, 5, "unknown API paths stay the API's JSON 404");

  const css = /href="(\/static\/[0-9a-f]+\/app\.css)"/.exec(home.text)?.[1];
  assert.ok(css);
  const asset = await get(css);
  assert.equal(asset.status, 200);
  assert.equal(asset.headers.get("cache-control"), "public, max-age=31536000, immutable");
});

Deno.test("web: the cart lives in a cookie; another site cannot post to it", opts, async () => {
  const a = await api();
  const edge = a.stack.edgeUrl!;
  const p = await a.product(250, 5);
  const post = (headers: Record<string, string>, body: string) =>
    fetch(`${edge}/cart/add`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
      body,
      redirect: "manual",
    });
  const cross = await post({ "sec-fetch-site": "cross-site" }, `product=${p}&quantity=2`);
  assert.equal(cross.status, 403);
  await cross.body?.cancel();
  const bad = await post({}, "product=nope&quantity=2");
  assert.equal(bad.status, 400);
  await bad.body?.cancel();
  const ok = await post({ "sec-fetch-site": "same-origin" }, `product=${p}&quantity=2&back=/`);
  assert.equal(ok.status, 303);
  assert.equal(ok.headers.get("location"), `/#p-${p}`);
  const set = ok.headers.get("set-cookie") ?? "";
  assert.match(set, new RegExp(`stocklet_cart=${p}%3A2;`));
  await ok.body?.cancel();
  const cart = await fetch(`${edge}/cart`, {
    headers: { cookie: set.split(";")[0]! },
  });
  const html = await cart.text();
  assert.match(html, /Widget/);
  assert.match(html, /data-cart-total="true"><span class="money">5\.00</);
});

Deno.test(
  "api: admins search every order by status and customer; customers may not",
  opts,
  async () => {
    const a = await api();
    const p = await a.product(300, 2);
    const rich = await buyer(10_000n);
    const poor = await buyer(0n);
    const approved = await a.settled(rich, (await a.place(rich, { [p]: 1 })).id);
    const rejected = await a.settled(poor, (await a.place(poor, { [p]: 1 })).id);
    assert.equal(approved.status, "ORDER_STATUS_APPROVED");
    assert.equal(rejected.status, "ORDER_STATUS_REJECTED");
    const admin = await a.adminToken();
    const search = (q: string, token = admin) =>
      a.call<{ orders?: Array<{ id: string; status: string }>; nextPageToken?: string }>(
        "GET",
        `/v1/order/search?${q}`,
        { token },
      );
    const byPoor = await search(`customer_id=${poor.id}`);
    assert.equal(byPoor.status, 200);
    assert.deepEqual(byPoor.json.orders?.map((o) => o.id), [rejected.id]);
    const upper = await search(`customer_id=${rich.id.toUpperCase()}`);
    assert.deepEqual(upper.json.orders?.map((o) => o.id), [approved.id], "ids in any case");
    const rejectedOnly = await search("statuses=ORDER_STATUS_REJECTED&page_size=100");
    assert.ok(rejectedOnly.json.orders!.every((o) => o.status === "ORDER_STATUS_REJECTED"));
    assert.ok(rejectedOnly.json.orders!.some((o) => o.id === rejected.id));
    assert.ok(!rejectedOnly.json.orders!.some((o) => o.id === approved.id));
    const both = await search(
      `customer_id=${rich.id}&statuses=ORDER_STATUS_REJECTED&statuses=ORDER_STATUS_PENDING`,
    );
    assert.deepEqual(both.json.orders ?? [], []);
    const page1 = await search("page_size=1");
    assert.equal(page1.json.orders?.length, 1);
    assert.ok(page1.json.nextPageToken);
    const page2 = await search(`page_size=1&page_token=${page1.json.nextPageToken}`);
    assert.notEqual(page2.json.orders?.[0]?.id, page1.json.orders?.[0]?.id);

    assert.equal((await search("", rich.token)).status, 403);
    assert.equal((await a.call("GET", "/v1/order/search")).status, 401);
    for (const bad of ["customer_id=nope", "statuses=ORDER_STATUS_UNSPECIFIED", "page_size=1000"]) {
      const r = await search(bad);
      assert.equal(r.status, 400, bad);
    }
  },
);

Deno.test("api: stock levels of several products in one public read", opts, async () => {
  const a = await api();
  const p = await a.product(100, 7);
  const q = await a.product(100, 0);
  const unknown = crypto.randomUUID();
  const r = await a.call<{ stocks: Array<{ productId: string; quantity?: number }> }>(
    "GET",
    `/v1/warehouse/stock?product_ids=${q}&product_ids=${unknown}&product_ids=${p.toUpperCase()}`,
  );
  assert.equal(r.status, 200);
  assert.deepEqual(
    r.json.stocks.map((s) => [s.productId, s.quantity ?? 0]),
    [[q, 0], [p, 7]],
    "in the order asked, unknown products left out",
  );
  const many = Array.from({ length: 101 }, () => `product_ids=${crypto.randomUUID()}`).join("&");
  assert.equal((await a.call("GET", `/v1/warehouse/stock?${many}`)).status, 400);
  assert.equal((await a.call("GET", "/v1/warehouse/stock")).status, 400);
  assert.equal((await a.call("GET", `/v1/warehouse/stock?product_ids=${unique()}`)).status, 400);
});

Deno.test(
  "web: the admin's dead-letter page shows a new dead-letter topic's records and why",
  opts,
  async () => {
    const a = await api();
    const edge = a.stack.edgeUrl!;
    const admin = cookie(await a.adminToken());
    const topic = `e2e-${unique()}.dlq`;
    const orderId = crypto.randomUUID();
    await ensureTopics(a.stack.infra.kafkaBrokers, [topic], 1);
    const event = toBinary(
      events.OrderCreatedEventSchema,
      create(events.OrderCreatedEventSchema, { orderId, itemQuantities: { [orderId]: 1 } }),
    );
    await republish(testKafka(a.stack.infra.kafkaBrokers), [{
      topic,
      key: Buffer.from(orderId) as never,
      value: Buffer.from(event) as never,
      headers: {
        id: crypto.randomUUID(),
        type: "stocklet.events.v1.OrderCreatedEvent",
        "dlq.error": "Error: the e2e poison pill",
        "dlq.topic": "order.state.created",
        "dlq.partition": "0",
        "dlq.offset": "41",
        "dlq.consumer": "e2e-group",
        "dlq.attempts": "5",
        "dlq.at": new Date().toISOString(),
      },
    }]);
    // The first view starts reading the new topic; its record shows within a few seconds.
    let html = "";
    for (let i = 0; i < 100 && !html.includes("the e2e poison pill"); i++) {
      const r = await fetch(`${edge}/admin/dead-letters?topic=${encodeURIComponent(topic)}`, {
        headers: admin,
      });
      assert.equal(r.status, 200);
      html = await r.text();
      if (!html.includes("the e2e poison pill")) await new Promise((res) => setTimeout(res, 200));
    }
    assert.match(html, /the e2e poison pill/);
    assert.match(
      html,
      /<code>order\.state\.created<\/code> → <strong>e2e-group<\/strong> after 5 attempts/,
    );
    assert.ok(html.includes(`&quot;orderId&quot;: &quot;${orderId}&quot;`), "the payload, decoded");
    const customer = await a.customer();
    const denied = await fetch(`${edge}/admin/dead-letters`, { headers: cookie(customer.token) });
    assert.equal(denied.status, 403);
    await denied.body?.cancel();
  },
);
