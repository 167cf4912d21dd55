import assert from "node:assert/strict";
import { OPENAPI_FILE } from "./server.ts";
import { type JsonObject, openApiDocument } from "./openapi.ts";
import { edgeRoutes } from "./routes.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

const committed: Any = JSON.parse(await Deno.readTextFile(OPENAPI_FILE));
const fresh: Any = openApiDocument();
const VERBS = ["get", "post", "put", "patch", "delete"];

function operations(doc: Any): string[] {
  const out: string[] = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, Any>)) {
    for (const verb of Object.keys(item)) if (VERBS.includes(verb)) out.push(`${verb} ${path}`);
  }
  return out.sort();
}

function op(doc: Any, verb: string, path: string): Any {
  const o = doc.paths[path]?.[verb];
  assert.ok(o, `${verb} ${path}`);
  return o;
}

function schema(doc: Any, name: string): Any {
  const s = doc.components.schemas[name];
  assert.ok(s, name);
  return s;
}

for (const [label, doc] of [["docs/openapi.json", committed], ["openApiDocument()", fresh]]) {
  Deno.test(`${label} lists every public route with its verb, and nothing else`, () => {
    const expected = edgeRoutes().map((r) => `${r.verb.toLowerCase()} ${r.template}`).sort();
    assert.deepEqual(operations(doc), expected);
  });
}

Deno.test("docs/openapi.json has the same operations and schemas as the generator", () => {
  // Descriptions come from proto comments at gen time; the structure must be identical.
  const strip = (v: Any): Any =>
    Array.isArray(v) ? v.map(strip) : v && typeof v === "object"
      ? Object.fromEntries(
        Object.entries(v).filter(([k]) => k !== "description" && k !== "summary").map((
          [k, x],
        ) => [k, strip(x)]),
      )
      : v;
  const unwrap = (v: Any): Any =>
    // A described $ref is wrapped in allOf; an undescribed one is not.
    Array.isArray(v)
      ? v.map(unwrap)
      : v && typeof v === "object"
      ? (v.allOf?.length === 1 && Object.keys(v).length === 1
        ? unwrap(v.allOf[0])
        : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrap(x)])))
      : v;
  assert.deepEqual(unwrap(strip(committed)), unwrap(strip(fresh)));
});

Deno.test("openapi: security follows the access table", () => {
  for (const r of edgeRoutes()) {
    const o = op(committed, r.verb.toLowerCase(), r.template);
    assert.equal(o["x-stocklet-access"], r.access);
    assert.equal(o["x-stocklet-rpc"], r.rpc);
    if (r.access === "public") {
      assert.deepEqual(o.security, [{}, { bearerAuth: [] }]);
    } else {
      assert.deepEqual(o.security, [{ bearerAuth: [] }]);
      assert.ok(o.responses["401"]);
    }
    assert.equal(r.access === "admin", "403" in o.responses, `${r.rpc} 403`);
    for (const status of ["4XX", "5XX"]) {
      assert.deepEqual(o.responses[status], { $ref: "#/components/responses/Error" });
    }
  }
  assert.deepEqual(committed.components.securitySchemes.bearerAuth, {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: committed.components.securitySchemes.bearerAuth.description,
  });
});

Deno.test("openapi: the error body is {code, message, details[]}", () => {
  const e = schema(committed, "Error");
  assert.deepEqual(e.required, ["code", "message", "details"]);
  assert.equal(e.properties.code.type, "integer");
  assert.equal(e.properties.details.type, "array");
  assert.equal(
    committed.components.responses.Error.content["application/json"].schema.$ref,
    "#/components/schemas/Error",
  );
});

Deno.test("openapi: schemas are proto3 JSON (camelCase, int64 strings, enum names, RFC 3339)", () => {
  const order = schema(committed, "stocklet.order.v1.Order");
  assert.deepEqual(Object.keys(order.properties), [
    "id",
    "status",
    "items",
    "customerId",
    "transactionId",
    "shippingId",
    "createdAt",
    "updatedAt",
    "unitPricesCents",
    "itemsPriceCents",
    "totalPriceCents",
    "rejectReason",
    "carrier",
    "trackingNumber",
    "shippedAt",
    "deliveredAt",
    "cancelRequestedAt",
    "refundedCents",
  ]);
  assert.deepEqual(
    {
      type: order.properties.totalPriceCents.type,
      format: order.properties.totalPriceCents.format,
    },
    { type: "string", format: "int64" },
  );
  assert.equal(order.properties.createdAt.format, "date-time");
  assert.equal(order.properties.createdAt.type, "string");
  const status = order.properties.status.$ref ?? order.properties.status.allOf?.[0].$ref;
  assert.equal(status, "#/components/schemas/stocklet.order.v1.OrderStatus");
  assert.ok(
    schema(committed, "stocklet.order.v1.OrderStatus").enum.includes("ORDER_STATUS_APPROVED"),
  );
  assert.deepEqual(order.properties.items.additionalProperties, {
    type: "integer",
    format: "int32",
  });
  assert.equal(order.properties.unitPricesCents.additionalProperties.type, "string");
  // json_name wins over camelCase.
  assert.deepEqual(Object.keys(schema(committed, "stocklet.auth.v1.AuthToken").properties), [
    "token_type",
    "access_token",
    "expires_in",
  ]);
});

Deno.test("openapi: parameters and request bodies follow the http rules", () => {
  const viewOrder = op(committed, "get", "/v1/order/orders/{order_id}");
  assert.deepEqual(
    viewOrder.parameters.map((p: Any) => [p.name, p.in, p.required, p.schema.format]),
    [["order_id", "path", true, "uuid"]],
  );
  assert.equal(viewOrder.requestBody, undefined);

  const viewOrders = op(committed, "get", "/v1/order/list");
  assert.deepEqual(
    viewOrders.parameters.map((p: Any) => [p.name, p.in, p.schema.type]),
    [["customerId", "query", "string"], ["pageSize", "query", "integer"], [
      "pageToken",
      "query",
      "string",
    ]],
  );
  assert.equal(viewOrders.parameters[1].schema.maximum, 100);

  // body: "cart" — the body is the map itself.
  const place = op(committed, "post", "/v1/order/place");
  const cart = place.requestBody.content["application/json"].schema;
  assert.equal(cart.type, "object");
  assert.deepEqual(cart.additionalProperties.type, "integer");
  assert.equal(cart.minProperties, 1);
  assert.equal(place.parameters, undefined);

  // body: "*" with a path variable: the body has the other fields only.
  const credit = op(committed, "post", "/v1/payment/balance/{customer_id}/credit");
  const body = credit.requestBody.content["application/json"].schema;
  assert.deepEqual(Object.keys(body.properties), ["amountCents"]);
  assert.equal(credit.parameters[0].name, "customer_id");

  // body: "*" without path variables: the request message.
  const login = op(committed, "post", "/v1/auth/login");
  assert.equal(
    login.requestBody.content["application/json"].schema.$ref,
    "#/components/schemas/stocklet.auth.v1.LoginPasswordRequest",
  );
  const register = op(committed, "post", "/v1/user/register");
  assert.ok(register.requestBody.required);
  assert.equal(
    op(committed, "get", "/v1/product/list").responses["200"].content["application/json"].schema
      .$ref,
    "#/components/schemas/stocklet.product.v1.ViewProductsResponse",
  );
});

Deno.test("openapi: every $ref resolves and operation ids are unique", () => {
  const refs: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v as JsonObject)) {
        if (k === "$ref" && typeof x === "string") refs.push(x);
        else walk(x);
      }
    }
  };
  walk(committed);
  for (const ref of refs) {
    const target = ref.replace(/^#\//, "").split("/").reduce(
      (o: Any, k) => o?.[k],
      committed,
    );
    assert.ok(target, `${ref} resolves`);
  }
  const ids = operations(committed).map((o) => {
    const [verb, path] = o.split(" ");
    return committed.paths[path!][verb!].operationId;
  });
  assert.equal(new Set(ids).size, ids.length);
  assert.equal(committed.openapi, "3.0.3");
});
