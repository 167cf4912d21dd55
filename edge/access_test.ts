import assert from "node:assert/strict";
import { ACCESS, accessOf } from "./access.ts";
import { edgeRoutes } from "./routes.ts";

Deno.test("ACCESS classifies every public RPC, and only those", () => {
  const routed = new Set(edgeRoutes().map((r) => r.rpc));
  const missing = [...routed].filter((rpc) => !(rpc in ACCESS));
  assert.deepEqual(missing, [], "add these RPCs to edge/access.ts");
  const stale = Object.keys(ACCESS).filter((rpc) => !routed.has(rpc));
  assert.deepEqual(stale, [], "these RPCs have no public route any more");
});

Deno.test("ACCESS: admin-only and public routes are the agreed ones", () => {
  const byAccess = (a: string) =>
    edgeRoutes().filter((r) => r.access === a).map((r) => `${r.verb} ${r.template}`).sort();
  assert.deepEqual(byAccess("admin"), [
    "GET /v1/order/search",
    "PATCH /v1/product/{id}",
    "POST /v1/payment/balance/{customer_id}/credit",
    "POST /v1/product",
    "POST /v1/shipping/shipment/{shipment_id}/deliver",
    "POST /v1/shipping/shipment/{shipment_id}/dispatch",
    "POST /v1/warehouse/product/{product_id}/stock",
  ]);
  assert.deepEqual(byAccess("public"), [
    "GET /v1/auth/jwks",
    "GET /v1/auth/revocations",
    "GET /v1/auth/service",
    "GET /v1/notification/service",
    "GET /v1/order/service",
    "GET /v1/payment/service",
    "GET /v1/product/list",
    "GET /v1/product/service",
    "GET /v1/product/{id}",
    "GET /v1/shipping/service",
    "GET /v1/user/service",
    "GET /v1/warehouse/product/{product_id}",
    "GET /v1/warehouse/service",
    "GET /v1/warehouse/stock",
    "POST /v1/auth/login",
    "POST /v1/user/register",
  ]);
});

Deno.test("accessOf() defaults to user for an unknown RPC", () => {
  assert.equal(accessOf("stocklet.x.v1.XService.New"), "user");
  assert.equal(accessOf("stocklet.product.v1.ProductService.ViewProducts"), "public");
});
