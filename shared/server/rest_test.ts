import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { order, product } from "../proto.ts";
import { requireAdmin, requireUser } from "../auth.ts";
import {
  AT_CAPACITY_HEADER,
  Code,
  failedPrecondition,
  notFound,
  ServiceError,
  tooBusy,
} from "../errors.ts";
import { bindService } from "./handler.ts";
import { restApp } from "./rest.ts";
import { testKeys } from "@stocklet/testing/tokens";

const ID = "0190d6a4-7b1c-7cc3-9a4e-3f1b2c3d4e5f";
const keys = await testKeys();
const seen: Record<string, unknown> = {};

const orders = bindService(order.OrderService, {
  serviceInfo: () => Promise.resolve({ name: "order" }),
  viewOrder: (req, ctx) => {
    requireUser(ctx.principal);
    if (req.orderId !== ID) throw notFound("order");
    return Promise.resolve({
      order: {
        id: req.orderId,
        status: order.OrderStatus.PENDING,
        customerId: ctx.principal!.userId,
        totalPriceCents: 9007199254740993n,
        items: { [ID]: 2 },
        createdAt: timestampFromMs(Date.UTC(2026, 0, 1)),
      },
    });
  },
  viewOrders: (req) => {
    seen.viewOrders = req;
    return Promise.resolve({ nextPageToken: "next" });
  },
  searchOrders: (req) => {
    seen.searchOrders = req;
    return Promise.resolve({});
  },
  placeOrder: (req, ctx) => {
    const user = requireUser(ctx.principal);
    seen.placeOrder = req.cart;
    if (Object.keys(req.cart).length === 2) throw new Error("secret database detail");
    return Promise.resolve({ order: { id: ID, customerId: user.userId } });
  },
  cancelOrder: () =>
    Promise.reject(failedPrecondition("the order was dispatched and can no longer be cancelled")),
});

const products = bindService(product.ProductService, {
  serviceInfo: () => Promise.resolve({ name: "product" }),
  viewProducts: () => Promise.resolve({ products: [{ id: "list" }] }),
  viewProduct: (req) => Promise.resolve({ product: { id: req.id } }),
  createProduct: (req, ctx) => {
    requireAdmin(ctx.principal);
    seen.createProduct = req;
    return Promise.resolve({ product: create(product.ProductSchema, { name: req.name }) });
  },
  updateProduct: (req) => Promise.resolve({ product: { id: req.id, name: req.name ?? "" } }),
});

const app = restApp({
  bindings: [orders, products],
  verifier: keys.verifier,
  readiness: { db: () => Promise.resolve(), kafka: () => Promise.reject(new Error("down")) },
  bodyLimitBytes: 1024,
});

async function call(
  method: string,
  path: string,
  opts: { body?: unknown; token?: string; raw?: string } = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const res = await app.request(path, {
    method,
    headers,
    ...(opts.raw !== undefined
      ? { body: opts.raw }
      : opts.body !== undefined
      ? { body: JSON.stringify(opts.body) }
      : {}),
  });
  return { status: res.status, json: await res.json() };
}

Deno.test("REST: path parameter, token and proto3 JSON out (camelCase, int64 string, enum name, zero values)", async () => {
  const token = await keys.sign({ sub: "user-1" });
  const r = await call("GET", `/v1/order/orders/${ID}`, { token });
  assert.equal(r.status, 200);
  const o = r.json.order as Record<string, unknown>;
  assert.equal(o.status, "ORDER_STATUS_PENDING");
  assert.equal(o.customerId, "user-1");
  assert.equal(o.totalPriceCents, "9007199254740993");
  assert.equal(o.itemsPriceCents, "0", "implicit zero values are emitted");
  assert.deepEqual(o.items, { [ID]: 2 });
  assert.equal(o.createdAt, "2026-01-01T00:00:00Z");
});

Deno.test("REST: query parameters by proto or JSON name fill fields the path and body do not bind", async () => {
  const r = await call("GET", `/v1/order/list?page_size=5&pageToken=abc&unknown=1`);
  assert.equal(r.status, 200);
  const req = seen.viewOrders as order.ViewOrdersRequest;
  assert.equal(req.pageSize, 5);
  assert.equal(req.pageToken, "abc");
  assert.equal(r.json.nextPageToken, "next");
});

Deno.test("REST: a repeated query parameter fills a repeated field, enums by name", async () => {
  const token = await keys.sign({ sub: "admin-1", roles: ["admin"] });
  const r = await call(
    "GET",
    `/v1/order/search?statuses=ORDER_STATUS_PENDING&statuses=ORDER_STATUS_REJECTED&customer_id=${ID}`,
    { token },
  );
  assert.equal(r.status, 200);
  const req = seen.searchOrders as order.SearchOrdersRequest;
  assert.deepEqual(req.statuses, [order.OrderStatus.PENDING, order.OrderStatus.REJECTED]);
  assert.equal(req.customerId, ID);
  const bad = await call("GET", "/v1/order/search?statuses=ORDER_STATUS_NOPE", { token });
  assert.equal(bad.status, 400);
});

Deno.test('REST: body "*" takes the whole message in either name style', async () => {
  const token = await keys.sign({ sub: "admin-1", roles: ["admin"] });
  const r = await call("POST", "/v1/product", {
    token,
    body: { name: "Teapot", description: "Stout", price_cents: "1299" },
  });
  assert.equal(r.status, 200);
  const req = seen.createProduct as product.CreateProductRequest;
  assert.equal(req.priceCents, 1299n);
  assert.equal((r.json.product as Record<string, unknown>).name, "Teapot");
});

Deno.test("REST: a single-field body binds that field (the cart map)", async () => {
  const token = await keys.sign({ sub: "user-1" });
  const r = await call("POST", "/v1/order/place", { token, body: { [ID]: 3 } });
  assert.equal(r.status, 200);
  assert.deepEqual(seen.placeOrder, { [ID]: 3 });
});

Deno.test("REST: literal routes win over parameters (B14)", async () => {
  assert.equal((await call("GET", "/v1/product/service")).json.name, "product");
  assert.deepEqual(
    (await call("GET", "/v1/product/list")).json.products,
    [
      {
        id: "list",
        name: "",
        description: "",
        priceCents: "0",
        createdAt: undefined,
      },
    ].map(({ createdAt: _, ...p }) => p),
  );
  assert.equal(((await call("GET", `/v1/product/${ID}`)).json.product as { id: string }).id, ID);
});

Deno.test("REST: PATCH with path id and partial body", async () => {
  const r = await call("PATCH", `/v1/product/${ID}`, { body: { name: "New" } });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.product, { id: ID, name: "New", description: "", priceCents: "0" });
});

Deno.test("REST: errors map to HTTP statuses with {code, message, details}", async () => {
  const token = await keys.sign({ sub: "user-1" });
  const missing = await call("GET", "/v1/order/orders/0190d6a4-7b1c-7cc3-9a4e-3f1b2c3d4e60", {
    token,
  });
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.json, { code: Code.NOT_FOUND, message: "order not found", details: [] });

  const invalid = await call("GET", "/v1/order/orders/..%2F..%2Fetc%2Fpasswd", { token });
  assert.equal(invalid.status, 400);
  assert.equal(invalid.json.code, Code.INVALID_ARGUMENT);
  assert.deepEqual((invalid.json.details as Array<{ field: string }>).map((d) => d.field), [
    "order_id",
  ]);

  // A request that comes too late for the resource's state is a conflict (409), not bad input.
  const late = await call("POST", `/v1/order/orders/${ID}/cancel`, { token });
  assert.equal(late.status, 409);
  assert.deepEqual(late.json, {
    code: Code.FAILED_PRECONDITION,
    message: "the order was dispatched and can no longer be cancelled",
    details: [],
  });
});

Deno.test("REST: internal failures answer 500 without leaking the cause", async () => {
  const token = await keys.sign({ sub: "user-1" });
  const r = await call("POST", "/v1/order/place", {
    token,
    body: { [ID]: 1, "0190d6a4-7b1c-7cc3-9a4e-3f1b2c3d4e60": 1 },
  });
  assert.equal(r.status, 500);
  assert.deepEqual(r.json, { code: Code.INTERNAL, message: "internal error", details: [] });
});

Deno.test("REST: missing, malformed or invalid credentials are 401; the wrong role is 403", async () => {
  assert.equal((await call("POST", "/v1/order/place", { body: { [ID]: 1 } })).status, 401);
  const res = await app.request("/v1/product/service", {
    headers: { authorization: "Basic Zm9vOmJhcg==" },
  });
  assert.equal(res.status, 401);
  const bad = await call("GET", "/v1/product/service", { token: "a.b.c" });
  assert.equal(bad.status, 401, "an invalid token is rejected even on a public route");
  const customer = await keys.sign({ sub: "user-1" });
  const forbidden = await call("POST", "/v1/product", { token: customer, body: { name: "x" } });
  assert.equal(forbidden.status, 403);
  assert.equal(forbidden.json.code, Code.PERMISSION_DENIED);
});

Deno.test("REST: malformed, wrongly typed and oversized bodies are 400/413 naming the problem", async () => {
  const token = await keys.sign({ sub: "admin-1", roles: ["admin"] });
  const malformed = await call("POST", "/v1/product", { token, raw: "{name: oops" });
  assert.equal(malformed.status, 400);
  assert.match(malformed.json.message as string, /malformed JSON/);

  const wrongType = await call("POST", "/v1/product", {
    token,
    body: { name: "x", priceCents: "twelve" },
  });
  assert.equal(wrongType.status, 400);
  assert.match(wrongType.json.message as string, /price_cents/);

  const huge = await call("POST", "/v1/order/place", {
    token,
    body: { [ID]: 1e30 },
  });
  assert.equal(huge.status, 400);

  const notObject = await call("POST", "/v1/product", { token, body: [1, 2] });
  assert.equal(notObject.status, 400);

  const big = await call("POST", "/v1/product", { token, body: { name: "x".repeat(5000) } });
  assert.equal(big.status, 413);
});

Deno.test("REST: unknown enum names in the query are 400", async () => {
  const r = await call("GET", "/v1/order/list?page_size=abc");
  assert.equal(r.status, 400);
  assert.match(r.json.message as string, /page_size/);
});

Deno.test("REST: /healthz is alive, /readyz names the failing dependency", async () => {
  assert.equal((await app.request("/healthz")).status, 200);
  const ready = await app.request("/readyz");
  assert.equal(ready.status, 503);
  assert.deepEqual((await ready.json()).checks, { db: "ok", kafka: "down" });
});

Deno.test("REST: unknown routes are 404 in the error shape", async () => {
  const r = await call("GET", "/v1/order/nowhere/at/all");
  assert.equal(r.status, 404);
  assert.equal(r.json.code, Code.NOT_FOUND);
});

Deno.test("ServiceError keeps code and details", () => {
  const e = new ServiceError(Code.ALREADY_EXISTS, "dup", [{ field: "email", message: "taken" }]);
  assert.equal(e.code, 6);
  assert.equal(e.details[0]!.field, "email");
});

Deno.test("REST: a service at capacity says so (429, Retry-After, at-capacity mark); a caller's limit does not", async () => {
  const busy = bindService(order.OrderService, {
    placeOrder: () => Promise.reject(tooBusy("too many orders in progress (9)", 1)),
    viewOrder: () => Promise.reject(new ServiceError(Code.RESOURCE_EXHAUSTED, "too many attempts")),
    serviceInfo: () => Promise.resolve({ name: "order" }),
    viewOrders: () => Promise.resolve({}),
    searchOrders: () => Promise.resolve({}),
    cancelOrder: () => Promise.resolve({}),
  });
  const a = restApp({ bindings: [busy], verifier: keys.verifier });
  const headers = {
    "content-type": "application/json",
    authorization: `Bearer ${await keys.sign({ sub: "user-1" })}`,
  };
  const body = JSON.stringify({ [ID]: 1 });
  const place = await a.request("/v1/order/place", { method: "POST", headers, body });
  assert.equal(place.status, 429);
  assert.equal(place.headers.get("retry-after"), "1");
  assert.equal(place.headers.get(AT_CAPACITY_HEADER), "1");
  await place.body?.cancel();
  const view = await a.request(`/v1/order/orders/${ID}`, { headers });
  assert.equal(view.status, 429);
  assert.equal(view.headers.get(AT_CAPACITY_HEADER), null);
  await view.body?.cancel();
});
