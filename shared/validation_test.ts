import assert from "node:assert/strict";
import {
  create,
  type DescMessage,
  type DescService,
  fromJson,
  hasOption,
  type JsonObject,
} from "@bufbuild/protobuf";
import { field as fieldRules } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import * as proto from "./proto.ts";
import { Code, ServiceError } from "./errors.ts";
import {
  canonicalize,
  RULE_NO_NUL,
  RULE_UNIQUE_UUID_KEYS,
  RULE_WELL_FORMED,
  validateRequest,
  violationsOf,
} from "./validation.ts";

const ID = "0190d6a4-7b1c-7cc3-9a4e-3f1b2c3d4e5f";
const ID2 = "0190d6a4-7b1c-7cc3-9a4e-3f1b2c3d4e60";

/** A valid request and invalid ones, each naming the field and rule it must violate. */
interface Case {
  valid: JsonObject;
  invalid: Array<{ json: JsonObject; field: string; rule: string }>;
}

const CASES: Record<string, Case> = {
  "stocklet.auth.v1.LoginPasswordRequest": {
    valid: { email: "ada@example.com", password: "correct horse" },
    invalid: [
      { json: { email: "not-an-email", password: "x" }, field: "email", rule: "string.email" },
      { json: { password: "x" }, field: "identity", rule: "required" },
      { json: { email: "a@b.co", password: "" }, field: "password", rule: "string.min_len" },
      { json: { userId: "42", password: "x" }, field: "user_id", rule: "string.uuid" },
    ],
  },
  "stocklet.auth.v1.SetPasswordRequest": {
    valid: { currentPassword: "old password", newPassword: "new password" },
    invalid: [
      {
        json: { currentPassword: "old", newPassword: "short" },
        field: "new_password",
        rule: "string.min_len",
      },
      {
        json: { currentPassword: "", newPassword: "long enough" },
        field: "current_password",
        rule: "string.min_len",
      },
    ],
  },
  "stocklet.user.v1.ViewUserRequest": {
    valid: { id: ID },
    invalid: [{ json: { id: "../../etc/passwd" }, field: "id", rule: "string.uuid" }],
  },
  "stocklet.user.v1.RegisterUserRequest": {
    valid: {
      firstName: "Ada",
      lastName: "Lovelace",
      email: "ada@example.com",
      password: "s3cret-pw",
    },
    invalid: [
      {
        json: { firstName: "", lastName: "L", email: "a@b.co", password: "s3cret-pw" },
        field: "first_name",
        rule: "string.min_len",
      },
      {
        json: { firstName: "A", lastName: "x".repeat(65), email: "a@b.co", password: "s3cret-pw" },
        field: "last_name",
        rule: "string.max_len",
      },
      {
        json: { firstName: "A", lastName: "L", email: "nope", password: "s3cret-pw" },
        field: "email",
        rule: "string.email",
      },
      {
        json: { firstName: "A", lastName: "L", email: "a@b.co", password: "short" },
        field: "password",
        rule: "string.min_len",
      },
    ],
  },
  "stocklet.user.v1.VerifyCredentialsRequest": {
    valid: { email: "ada@example.com", password: "pw" },
    invalid: [{ json: { password: "pw" }, field: "identity", rule: "required" }],
  },
  "stocklet.user.v1.ChangePasswordRequest": {
    valid: { userId: ID, currentPassword: "old", newPassword: "new password" },
    invalid: [
      {
        json: { userId: "1", currentPassword: "old", newPassword: "new password" },
        field: "user_id",
        rule: "string.uuid",
      },
    ],
  },
  "stocklet.user.v1.ListRevokedCredentialsRequest": {
    valid: { maxAgeSeconds: 86_460 },
    invalid: [{ json: { maxAgeSeconds: 0 }, field: "max_age_seconds", rule: "int32.gt" }],
  },
  "stocklet.product.v1.ViewProductRequest": {
    valid: { id: ID },
    invalid: [{ json: { id: "1' OR '1'='1" }, field: "id", rule: "string.uuid" }],
  },
  "stocklet.product.v1.ViewProductsRequest": {
    valid: { pageSize: 50, pageToken: "abc" },
    invalid: [
      { json: { pageSize: 101 }, field: "page_size", rule: "int32.gte_lte" },
      { json: { pageSize: -1 }, field: "page_size", rule: "int32.gte_lte" },
      { json: { pageToken: "x".repeat(129) }, field: "page_token", rule: "string.max_len" },
    ],
  },
  "stocklet.product.v1.CreateProductRequest": {
    valid: { name: "Teapot", description: "Short and stout", priceCents: "1299" },
    invalid: [
      { json: { name: "", priceCents: "1" }, field: "name", rule: "string.min_len" },
      { json: { name: "T", priceCents: "-1" }, field: "price_cents", rule: "int64.gte_lte" },
      {
        json: { name: "T", priceCents: "100000000001" },
        field: "price_cents",
        rule: "int64.gte_lte",
      },
    ],
  },
  "stocklet.product.v1.UpdateProductRequest": {
    valid: { id: ID, priceCents: "1500" },
    invalid: [
      { json: { id: ID, name: "" }, field: "name", rule: "string.min_len" },
      { json: { id: "x", priceCents: "1" }, field: "id", rule: "string.uuid" },
    ],
  },
  "stocklet.warehouse.v1.ViewProductStockRequest": {
    valid: { productId: ID },
    invalid: [{ json: { productId: "" }, field: "product_id", rule: "string.uuid_empty" }],
  },
  "stocklet.warehouse.v1.ViewStockLevelsRequest": {
    valid: { productIds: [ID, ID2] },
    invalid: [
      { json: { productIds: [] }, field: "product_ids", rule: "repeated.min_items" },
      { json: { productIds: [ID, "7"] }, field: "product_ids[1]", rule: "string.uuid" },
      {
        json: { productIds: Array.from({ length: 101 }, () => ID) },
        field: "product_ids",
        rule: "repeated.max_items",
      },
    ],
  },
  "stocklet.warehouse.v1.ViewReservationRequest": {
    valid: { reservationId: ID },
    invalid: [{ json: { reservationId: "7" }, field: "reservation_id", rule: "string.uuid" }],
  },
  "stocklet.warehouse.v1.AddStockRequest": {
    valid: { productId: ID, quantity: 5 },
    invalid: [
      { json: { productId: ID, quantity: 0 }, field: "quantity", rule: "int32.gt_lte" },
      { json: { productId: ID, quantity: 1000001 }, field: "quantity", rule: "int32.gt_lte" },
    ],
  },
  "stocklet.order.v1.ViewOrderRequest": {
    valid: { orderId: ID },
    invalid: [{ json: { orderId: "; DROP TABLE orders" }, field: "order_id", rule: "string.uuid" }],
  },
  "stocklet.order.v1.ViewOrdersRequest": {
    valid: { pageSize: 10 },
    invalid: [
      { json: { customerId: "nope" }, field: "customer_id", rule: "string.uuid" },
      // Issue 13 #3: 36 hyphens matched the old pattern and reached SQL as a uuid (500).
      { json: { customerId: "-".repeat(36) }, field: "customer_id", rule: "string.uuid" },
      { json: { pageSize: 1000 }, field: "page_size", rule: "int32.gte_lte" },
    ],
  },
  "stocklet.order.v1.SearchOrdersRequest": {
    valid: { statuses: ["ORDER_STATUS_REJECTED"], customerId: ID, pageSize: 25 },
    invalid: [
      { json: { customerId: "nope" }, field: "customer_id", rule: "string.uuid" },
      {
        json: { statuses: ["ORDER_STATUS_UNSPECIFIED"] },
        field: "statuses[0]",
        rule: "enum.not_in",
      },
      { json: { statuses: [99] }, field: "statuses[0]", rule: "enum.defined_only" },
      { json: { pageSize: 101 }, field: "page_size", rule: "int32.gte_lte" },
    ],
  },
  "stocklet.order.v1.PlaceOrderRequest": {
    valid: { cart: { [ID]: 2, [ID2]: 1 } },
    invalid: [
      { json: { cart: {} }, field: "cart", rule: "map.min_pairs" },
      { json: { cart: { [ID]: 0 } }, field: `cart["${ID}"]`, rule: "int32.gt_lte" },
      { json: { cart: { "12": 1 } }, field: `cart["12"]`, rule: "string.uuid" },
    ],
  },
  "stocklet.order.v1.CancelOrderRequest": {
    valid: { orderId: ID },
    invalid: [{ json: { orderId: "42" }, field: "order_id", rule: "string.uuid" }],
  },
  "stocklet.shipping.v1.DispatchShipmentRequest": {
    valid: { shipmentId: ID, carrier: "DHL Express", trackingNumber: "JD014600006281" },
    invalid: [
      {
        json: { shipmentId: ID, carrier: "", trackingNumber: "JD1" },
        field: "carrier",
        rule: "string.min_len",
      },
      {
        json: { shipmentId: ID, carrier: "DHL", trackingNumber: "<script>" },
        field: "tracking_number",
        rule: "string.pattern",
      },
      {
        json: { shipmentId: "1", carrier: "DHL", trackingNumber: "JD1" },
        field: "shipment_id",
        rule: "string.uuid",
      },
    ],
  },
  "stocklet.shipping.v1.DeliverShipmentRequest": {
    valid: { shipmentId: ID },
    invalid: [{ json: { shipmentId: "1" }, field: "shipment_id", rule: "string.uuid" }],
  },
  "stocklet.notification.v1.ViewNotificationsRequest": {
    valid: { pageSize: 10, customerId: ID },
    invalid: [
      { json: { customerId: "nope" }, field: "customer_id", rule: "string.pattern" },
      { json: { pageSize: 101 }, field: "page_size", rule: "int32.gte_lte" },
    ],
  },
  "stocklet.shipping.v1.ViewShipmentRequest": {
    valid: { shipmentId: ID },
    invalid: [{ json: { shipmentId: "1" }, field: "shipment_id", rule: "string.uuid" }],
  },
  "stocklet.shipping.v1.ViewShipmentManifestRequest": {
    valid: { shipmentId: ID },
    invalid: [{ json: { shipmentId: "1" }, field: "shipment_id", rule: "string.uuid" }],
  },
  "stocklet.payment.v1.ViewTransactionsRequest": {
    valid: { pageSize: 3 },
    invalid: [{ json: { pageSize: 500 }, field: "page_size", rule: "int32.gte_lte" }],
  },
  "stocklet.payment.v1.ViewTransactionRequest": {
    valid: { transactionId: ID },
    invalid: [{ json: { transactionId: "x" }, field: "transaction_id", rule: "string.uuid" }],
  },
  "stocklet.payment.v1.ViewBalanceRequest": {
    valid: { customerId: ID },
    invalid: [{ json: { customerId: "" }, field: "customer_id", rule: "string.uuid_empty" }],
  },
  "stocklet.payment.v1.CreditBalanceRequest": {
    valid: { customerId: ID, amountCents: "10000" },
    invalid: [
      { json: { customerId: ID, amountCents: "0" }, field: "amount_cents", rule: "int64.gt_lte" },
      { json: { customerId: ID, amountCents: "-5" }, field: "amount_cents", rule: "int64.gt_lte" },
    ],
  },
};

const SERVICES: DescService[] = [
  proto.auth,
  proto.user,
  proto.product,
  proto.warehouse,
  proto.order,
  proto.shipping,
  proto.payment,
  proto.notification,
].flatMap((ns) =>
  (Object.values(ns) as unknown[]).filter((v): v is DescService =>
    typeof v === "object" && v !== null && (v as { kind?: unknown }).kind === "service"
  )
);

function hasRules(desc: DescMessage): boolean {
  return desc.fields.some((f) => hasOption(f, fieldRules)) ||
    desc.oneofs.some((o) => o.proto.options !== undefined);
}

const REQUESTS = new Map(
  SERVICES.flatMap((s) => s.methods.map((m) => [m.input.typeName, m.input])),
);

Deno.test("every request message with rules has a valid and an invalid example", () => {
  for (const [name, desc] of REQUESTS) {
    if (hasRules(desc)) assert.ok(CASES[name], `no validation case for ${name}`);
    else assert.equal(desc.fields.length, 0, `${name} has fields but no rules: are none needed?`);
  }
  for (const name of Object.keys(CASES)) assert.ok(REQUESTS.has(name), `${name} is not a request`);
});

for (const [name, c] of Object.entries(CASES)) {
  Deno.test(`${name} accepts a valid example and rejects each invalid one`, () => {
    const desc = REQUESTS.get(name)!;
    assert.deepEqual(violationsOf(desc, fromJson(desc, c.valid)), []);
    for (const bad of c.invalid) {
      const found = violationsOf(desc, fromJson(desc, bad.json));
      assert.ok(
        found.some((v) => v.field === bad.field && v.rule === bad.rule),
        `${JSON.stringify(bad.json)} should violate ${bad.field} [${bad.rule}], got ${
          JSON.stringify(found)
        }`,
      );
    }
  });
}

Deno.test("validateRequest throws INVALID_ARGUMENT naming each field and rule", () => {
  const desc = proto.user.RegisterUserRequestSchema;
  const msg = fromJson(desc, { firstName: "", lastName: "L", email: "bad", password: "pw" });
  assert.throws(() => validateRequest(desc, msg), (e: unknown) => {
    assert.ok(e instanceof ServiceError);
    assert.equal(e.code, Code.INVALID_ARGUMENT);
    assert.match(e.message, /^invalid request: /);
    assert.deepEqual(
      e.details.map((d) => `${d.field} ${d.rule}`).sort(),
      ["email string.email", "first_name string.min_len", "password string.min_len"],
    );
    return true;
  });
});

function rejects(desc: DescMessage, json: JsonObject): ServiceError {
  const msg = fromJson(desc, json);
  let caught: unknown;
  try {
    validateRequest(desc, msg);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ServiceError, `${JSON.stringify(json)} should be refused`);
  assert.equal(caught.code, Code.INVALID_ARGUMENT);
  return caught;
}

Deno.test("validateRequest refuses NUL in any string field, naming the field (issue 13 #1)", () => {
  const register = {
    firstName: "Ada",
    lastName: "Lovelace",
    email: "ada@example.com",
    password: "s3cret-pw",
  };
  for (const field of ["firstName", "lastName", "password"] as const) {
    const e = rejects(proto.user.RegisterUserRequestSchema, { ...register, [field]: "a\u0000b" });
    const snake = field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    assert.deepEqual(e.details.find((d) => d.rule === RULE_NO_NUL)?.field, snake);
    assert.match(e.message, new RegExp(`${snake}: must not contain the NUL character`));
  }
  const product = proto.product.CreateProductRequestSchema;
  const e = rejects(product, { name: "Tea\u0000pot", description: "\u0000", priceCents: "1" });
  assert.deepEqual(
    e.details.filter((d) => d.rule === RULE_NO_NUL).map((d) => d.field).sort(),
    ["description", "name"],
  );
  // Oneof members and optional fields are strings too.
  const login = rejects(proto.auth.LoginPasswordRequestSchema, {
    email: "a\u0000@b.co",
    password: "x",
  });
  assert.ok(login.details.some((d) => d.field === "email" && d.rule === RULE_NO_NUL));
  const update = rejects(proto.product.UpdateProductRequestSchema, { id: ID, name: "\u0000" });
  assert.ok(update.details.some((d) => d.field === "name" && d.rule === RULE_NO_NUL));
});

Deno.test("validateRequest refuses unpaired surrogates (not storable as UTF-8 text)", () => {
  // proto3 JSON decoding already refuses them; a message built in code (or by another decoder)
  // meets the kit's own check.
  const desc = proto.product.CreateProductRequestSchema;
  const msg = create(desc, { name: "Tea\ud800pot", priceCents: 1n });
  assert.throws(() => validateRequest(desc, msg), (e: unknown) => {
    assert.ok(e instanceof ServiceError);
    assert.ok(e.details.some((d) => d.field === "name" && d.rule === RULE_WELL_FORMED));
    return true;
  });
  // A proper pair (an emoji) is fine.
  validateRequest(desc, create(desc, { name: "Tea 🫖", priceCents: 1n }));
});

Deno.test("validateRequest lower-cases UUIDs in paths, queries, bodies and map keys (issue 13 #2)", () => {
  const upper = ID.toUpperCase();
  const view = fromJson(proto.order.ViewOrderRequestSchema, { orderId: upper });
  validateRequest(proto.order.ViewOrderRequestSchema, view);
  assert.equal(view.orderId, ID);
  const list = fromJson(proto.order.ViewOrdersRequestSchema, { customerId: upper });
  validateRequest(proto.order.ViewOrdersRequestSchema, list);
  assert.equal(list.customerId, ID);
  const login = fromJson(proto.auth.LoginPasswordRequestSchema, { userId: upper, password: "x" });
  validateRequest(proto.auth.LoginPasswordRequestSchema, login);
  assert.deepEqual(login.identity, { case: "userId", value: ID });
  const place = fromJson(proto.order.PlaceOrderRequestSchema, { cart: { [upper]: 2, [ID2]: 1 } });
  validateRequest(proto.order.PlaceOrderRequestSchema, place);
  assert.deepEqual(place.cart, { [ID]: 2, [ID2]: 1 });
  // Emails and names keep their case: only UUIDs have one spelling.
  const reg = fromJson(proto.user.RegisterUserRequestSchema, {
    firstName: "Ada",
    lastName: "Lovelace",
    email: "Ada@Example.com",
    password: "s3cret-pw",
  });
  validateRequest(proto.user.RegisterUserRequestSchema, reg);
  assert.equal(reg.email, "Ada@Example.com");
  assert.equal(reg.firstName, "Ada");
});

Deno.test("validateRequest refuses a cart holding one id in two spellings (issue 13 #2)", () => {
  const e = rejects(proto.order.PlaceOrderRequestSchema, {
    cart: { [ID]: 1, [ID.toUpperCase()]: 2 },
  });
  const dup = e.details.find((d) => d.rule === RULE_UNIQUE_UUID_KEYS);
  assert.ok(dup, JSON.stringify(e.details));
  assert.equal(dup.field, `cart[${JSON.stringify(ID.toUpperCase())}]`);
  assert.match(e.message, /ids are case-insensitive/);
});

Deno.test("canonicalize leaves a canonical message untouched and reports nothing", () => {
  const place = fromJson(proto.order.PlaceOrderRequestSchema, { cart: { [ID]: 2 } });
  const cart = place.cart;
  assert.deepEqual(canonicalize(proto.order.PlaceOrderRequestSchema, place), []);
  assert.equal(place.cart, cart, "the same object: nothing was rewritten");
});
