import assert from "node:assert/strict";
import { declaredRoutes, features } from "./features.ts";

Deno.test("declaredRoutes() reads the contracts' HTTP routes", () => {
  const routes = declaredRoutes();
  assert.ok(routes.has("POST /v1/order/place"));
  assert.ok(routes.has("GET /v1/order/orders/{order_id}"));
  assert.ok(routes.has("GET /v1/warehouse/stock"));
});

Deno.test("features() follows the routes the contracts declare", () => {
  assert.deepEqual(features(new Set()), { notifications: false, cancel: false });
  assert.deepEqual(
    features(new Set(["GET /v1/notification/list", "POST /v1/order/orders/{order_id}/cancel"])),
    { notifications: true, cancel: true },
  );
  // Today's contracts: whatever they declare, the pages agree with it.
  const routes = declaredRoutes();
  assert.equal(features().notifications, routes.has("GET /v1/notification/list"));
  assert.equal(features().cancel, routes.has("POST /v1/order/orders/{order_id}/cancel"));
});
