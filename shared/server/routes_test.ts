import assert from "node:assert/strict";
import { order, payment, product } from "../proto.ts";
import { parseTemplate, routesOfService, sortRoutes } from "./routes.ts";

Deno.test("parseTemplate() compiles a template for Hono and as a whole-path regex", () => {
  assert.deepEqual(parseTemplate("/v1/product/{id}"), {
    routerPath: "/v1/product/:p0",
    pattern: "^/v1/product/[^/]+$",
    params: [{ name: "p0", fieldPath: ["id"] }],
    literals: 2,
  });
  assert.deepEqual(parseTemplate("/v1/payment/balance/{customer_id}/credit"), {
    routerPath: "/v1/payment/balance/:p0/credit",
    pattern: "^/v1/payment/balance/[^/]+/credit$",
    params: [{ name: "p0", fieldPath: ["customer_id"] }],
    literals: 4,
  });
  const nested = parseTemplate("/v1/a.b/{x.y=*}/{z}");
  assert.equal(nested.pattern, "^/v1/a\\.b/[^/]+/[^/]+$");
  assert.equal(nested.routerPath, "/v1/a.b/:p0/:p1");
  assert.deepEqual(nested.params, [
    { name: "p0", fieldPath: ["x", "y"] },
    { name: "p1", fieldPath: ["z"] },
  ]);
  assert.throws(() => parseTemplate("/v1/{name=**}"), /unsupported/);
  assert.throws(() => parseTemplate("/v1/x:verb"), /unsupported/);
  assert.throws(() => parseTemplate("/v1/x/"), /unsupported/);
  assert.throws(() => parseTemplate("/v1/{A}"), /unsupported/);
  assert.throws(() => parseTemplate("v1/x"), /must start with/);
});

Deno.test("routesOfService() derives one route per annotated RPC", () => {
  const routes = routesOfService(product.ProductService);
  const byName = new Map(routes.map((r) => [r.method.name, r]));
  assert.equal(routes.length, product.ProductService.methods.length);
  const view = byName.get("ViewProduct")!;
  assert.deepEqual([view.verb, view.template, view.body], ["GET", "/v1/product/{id}", ""]);
  const credit = routesOfService(payment.PaymentService).find((r) =>
    r.method.name === "CreditBalance"
  )!;
  assert.equal(credit.verb, "POST");
  assert.equal(credit.body, "*");
});

Deno.test("sortRoutes() puts literal segments before variables, in a total order", () => {
  const routes = sortRoutes(routesOfService(product.ProductService));
  const order_ = routes.map((r) => `${r.verb} ${r.template}`);
  assert.ok(order_.indexOf("GET /v1/product/list") < order_.indexOf("GET /v1/product/{id}"));
  assert.deepEqual(sortRoutes([...routes].reverse()), routes, "independent of input order");
});

Deno.test("every route's Hono path and regex accept the same concrete paths", () => {
  for (const svc of [order.OrderService, payment.PaymentService, product.ProductService]) {
    for (const r of routesOfService(svc)) {
      const concrete = r.routerPath.replace(/:p\d+/g, "0190c1d2-0000-7000-8000-00000000000a");
      assert.match(concrete, new RegExp(r.pattern), r.template);
      assert.doesNotMatch(concrete + "/x", new RegExp(r.pattern), r.template);
    }
  }
});
