import assert from "node:assert/strict";
import { getOption, hasOption } from "@bufbuild/protobuf";
import { httpRule } from "@stocklet/shared/proto";
import { SERVICE_NAMES } from "@stocklet/shared/topology";
import { edgeRoutes, publicServices, ROUTE_TIMEOUTS_MS, routerOf } from "./routes.ts";

Deno.test("edgeRoutes() lists every annotated RPC of every service, under its prefix", () => {
  const routes = edgeRoutes();
  const expected: string[] = [];
  for (const { desc } of publicServices()) {
    for (const m of desc.methods) {
      if (!hasOption(m, httpRule)) continue;
      const rule = getOption(m, httpRule);
      expected.push(`${rule.pattern.case!.toUpperCase()} ${rule.pattern.value}`);
    }
  }
  assert.deepEqual(routes.map((r) => `${r.verb} ${r.template}`).sort(), expected.sort());
  assert.deepEqual([...new Set(routes.map((r) => r.service))].sort(), [...SERVICE_NAMES].sort());
  for (const r of routes) {
    assert.ok(r.template === `/v1/${r.service}` || r.template.startsWith(`/v1/${r.service}/`));
    assert.equal(r.rpc, `${r.method.parent.typeName}.${r.method.name}`);
    assert.equal(r.timeoutMs, ROUTE_TIMEOUTS_MS[r.rpc] ?? 10_000);
  }
  // gRPC-only services (user's internal one) expose nothing.
  assert.ok(!routes.some((r) => r.rpc.includes("UserInternalService")));
  assert.equal(routes.length, 36);
});

Deno.test("edgeRoutes() takes the default timeout from its options", () => {
  assert.ok(
    edgeRoutes({ timeoutMs: 1234 }).every((r) =>
      r.timeoutMs === (ROUTE_TIMEOUTS_MS[r.rpc] ?? 1234)
    ),
  );
  // The credential routes (scrypt) wait longer than the rest.
  assert.equal(ROUTE_TIMEOUTS_MS["stocklet.auth.v1.AuthService.LoginPassword"], 30_000);
});

Deno.test("routerOf() prefers literal segments and matches verb and whole path", () => {
  const router = routerOf(edgeRoutes());
  const rpc = (verb: string, path: string) => router.match(verb, path)?.rpc;
  assert.equal(rpc("GET", "/v1/product/list"), "stocklet.product.v1.ProductService.ViewProducts");
  assert.equal(rpc("GET", "/v1/product/service"), "stocklet.product.v1.ProductService.ServiceInfo");
  assert.equal(rpc("GET", "/v1/product/abc"), "stocklet.product.v1.ProductService.ViewProduct");
  assert.equal(rpc("PATCH", "/v1/product/abc"), "stocklet.product.v1.ProductService.UpdateProduct");
  assert.equal(rpc("POST", "/v1/product"), "stocklet.product.v1.ProductService.CreateProduct");
  assert.equal(
    rpc("POST", "/v1/payment/balance/c1/credit"),
    "stocklet.payment.v1.PaymentService.CreditBalance",
  );
  assert.equal(
    rpc("GET", "/v1/shipping/shipment/s1/manifest"),
    "stocklet.shipping.v1.ShippingService.ViewShipmentManifest",
  );
  for (
    const [verb, path] of [
      ["GET", "/v1/product"],
      ["DELETE", "/v1/product/abc"],
      ["GET", "/v1/product/list/"],
      ["GET", "/v1/product/a/b"],
      ["GET", "/v1/product//"],
      ["GET", "/v1/order/orders/"],
      ["GET", "/healthz"],
      ["GET", "/"],
      ["GET", ""],
    ]
  ) {
    assert.equal(rpc(verb!, path!), undefined, `${verb} ${path}`);
  }
});
