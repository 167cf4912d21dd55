import assert from "node:assert/strict";
import {
  type DescField,
  type DescMessage,
  type DescService,
  equals,
  fromBinary,
  fromJson,
  getOption,
  hasOption,
  type JsonObject,
  type JsonValue,
  ScalarType,
  toBinary,
  toJson,
} from "@bufbuild/protobuf";
import * as proto from "./proto.ts";
import { EVENT_SCHEMAS, TOPICS } from "./topics.ts";

const namespaces = [
  proto.auth,
  proto.user,
  proto.product,
  proto.warehouse,
  proto.order,
  proto.shipping,
  proto.payment,
  proto.notification,
  proto.events,
];

function messagesOf(ns: Record<string, unknown>): DescMessage[] {
  return Object.values(ns).filter((v): v is DescMessage =>
    typeof v === "object" && v !== null && (v as { kind?: unknown }).kind === "message"
  );
}

function servicesOf(ns: Record<string, unknown>): DescService[] {
  return Object.values(ns).filter((v): v is DescService =>
    typeof v === "object" && v !== null && (v as { kind?: unknown }).kind === "service"
  );
}

const ALL_MESSAGES = namespaces.flatMap(messagesOf);
const ALL_SERVICES = namespaces.flatMap(servicesOf);

function scalarSample(t: ScalarType): JsonValue {
  switch (t) {
    case ScalarType.STRING:
      return "sample ✓";
    case ScalarType.BOOL:
      return true;
    case ScalarType.BYTES:
      return "AQID";
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return 1.5;
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return "-9007199254740993"; // beyond 2^53: int64 must not pass through a float
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return "18446744073709551615";
    default:
      return 7;
  }
}

function sampleOf(field: DescField, kind: DescField["fieldKind"], depth: number): JsonValue {
  switch (kind) {
    case "scalar":
      return scalarSample(field.scalar!);
    case "enum":
      return field.enum!.values.at(-1)!.name;
    case "message":
      return sampleMessage(field.message!, depth + 1);
    default:
      throw new Error(`unexpected kind ${kind}`);
  }
}

/** A proto3 JSON object with every field set (the first member of each oneof). */
function sampleMessage(desc: DescMessage, depth = 0): JsonObject {
  if (desc.typeName === "google.protobuf.Timestamp") return "2026-01-02T03:04:05.678Z" as never;
  const out: JsonObject = {};
  if (depth > 3) return out;
  for (const f of desc.fields) {
    if (f.oneof && f.oneof.fields[0] !== f) continue;
    switch (f.fieldKind) {
      case "list":
        out[f.jsonName] = [
          sampleOf(f, f.listKind, depth),
          sampleOf(f, f.listKind, depth),
        ];
        break;
      case "map":
        out[f.jsonName] = {
          "k1": sampleOf(f, f.mapKind, depth),
          "k2": sampleOf(f, f.mapKind, depth),
        };
        break;
      default:
        out[f.jsonName] = sampleOf(f, f.fieldKind, depth);
    }
  }
  return out;
}

Deno.test("every message round-trips through binary and proto3 JSON with all fields set", () => {
  assert.ok(ALL_MESSAGES.length > 80, `only ${ALL_MESSAGES.length} messages found`);
  for (const desc of ALL_MESSAGES) {
    const json = sampleMessage(desc);
    const msg = fromJson(desc, json);
    const back = fromBinary(desc, toBinary(desc, msg));
    assert.ok(equals(desc, msg, back), `${desc.typeName} changed through binary`);
    assert.deepEqual(toJson(desc, back), json, `${desc.typeName} changed through JSON`);
  }
});

Deno.test("int64 money is a JSON string and survives values beyond 2^53", () => {
  const schema = proto.payment.CustomerBalanceSchema;
  const msg = fromJson(schema, { customerId: "c", balanceCents: "9007199254740993" });
  assert.equal(msg.balanceCents, 9007199254740993n);
  assert.deepEqual(toJson(schema, msg), { customerId: "c", balanceCents: "9007199254740993" });
});

Deno.test("JSON accepts proto names and lowerCamelCase names alike", () => {
  const schema = proto.user.RegisterUserRequestSchema;
  const a = fromJson(schema, { first_name: "Ada", last_name: "L", email: "a@b.co" });
  const b = fromJson(schema, { firstName: "Ada", lastName: "L", email: "a@b.co" });
  assert.ok(equals(schema, a, b));
});

Deno.test("no float or double field carries money anywhere in the contracts", () => {
  for (const desc of ALL_MESSAGES) {
    for (const f of desc.fields) {
      const scalar = f.fieldKind === "scalar"
        ? f.scalar
        : f.fieldKind === "list" && f.listKind === "scalar"
        ? f.scalar
        : f.fieldKind === "map" && f.mapKind === "scalar"
        ? f.scalar
        : undefined;
      assert.ok(
        scalar !== ScalarType.FLOAT && scalar !== ScalarType.DOUBLE,
        `${desc.typeName}.${f.name} is a float`,
      );
      if (/(price|balance|amount)/.test(f.name) && scalar !== undefined) {
        assert.match(f.name, /_cents$|^amount$/, `${desc.typeName}.${f.name} should be *_cents`);
      }
    }
  }
});

Deno.test("every public RPC has an HTTP rule under its service's prefix", () => {
  const publicServices = ALL_SERVICES.filter((s) => !s.name.endsWith("InternalService"));
  assert.equal(publicServices.length, 8);
  for (const svc of publicServices) {
    // Routed by path-separated prefix (Envoy's path_separated_prefix): /v1/<svc> or /v1/<svc>/…
    const prefix = `/v1/${svc.typeName.split(".")[1]}`;
    for (const m of svc.methods) {
      assert.ok(hasOption(m, proto.httpRule), `${svc.typeName}.${m.name} has no google.api.http`);
      const rule = getOption(m, proto.httpRule);
      const path = rule.pattern.value as string;
      assert.ok(
        path === prefix || path.startsWith(`${prefix}/`),
        `${m.name}: ${path} is outside ${prefix}`,
      );
      assert.equal(m.methodKind, "unary");
    }
    assert.ok(svc.methods.some((m) => m.name === "ServiceInfo"), `${svc.name} lacks ServiceInfo`);
  }
});

Deno.test("internal RPCs have no HTTP rule, so no edge route reaches them", () => {
  const internal = ALL_SERVICES.filter((s) => s.name.endsWith("InternalService"));
  assert.ok(internal.length >= 1);
  for (const svc of internal) {
    for (const m of svc.methods) assert.ok(!hasOption(m, proto.httpRule), m.name);
  }
});

Deno.test("the seed's REST paths are kept and the new admin routes exist", () => {
  const routes = new Set(
    ALL_SERVICES.flatMap((s) =>
      s.methods.filter((m) => hasOption(m, proto.httpRule)).map((m) => {
        const r = getOption(m, proto.httpRule);
        return `${r.pattern.case?.toUpperCase()} ${r.pattern.value}${
          r.body ? ` body:${r.body}` : ""
        }`;
      })
    ),
  );
  for (
    const r of [
      "GET /v1/auth/jwks",
      "POST /v1/auth/login body:*",
      "POST /v1/auth/password body:*",
      "GET /v1/user/users/{id}",
      "POST /v1/user/register body:*",
      "GET /v1/product/{id}",
      "GET /v1/product/list",
      "POST /v1/product body:*",
      "PATCH /v1/product/{id} body:*",
      "GET /v1/warehouse/product/{product_id}",
      "GET /v1/warehouse/reservation/{reservation_id}",
      "POST /v1/warehouse/product/{product_id}/stock body:*",
      "GET /v1/order/orders/{order_id}",
      "GET /v1/order/list",
      "POST /v1/order/place body:cart",
      "GET /v1/shipping/shipment/{shipment_id}",
      "GET /v1/shipping/shipment/{shipment_id}/manifest",
      "GET /v1/payment/transaction/{transaction_id}",
      "GET /v1/payment/balance/{customer_id}",
      "POST /v1/payment/balance/{customer_id}/credit body:*",
    ]
  ) assert.ok(routes.has(r), `missing route ${r}`);
  for (
    const s of [
      "auth",
      "user",
      "product",
      "warehouse",
      "order",
      "shipping",
      "payment",
      "notification",
    ]
  ) {
    assert.ok(routes.has(`GET /v1/${s}/service`), `missing ServiceInfo route of ${s}`);
  }
});

Deno.test("the seed's topics (less three retired) and the lifecycle's are declared, each on one event message", () => {
  // The seed's 27, less payment.balance.debited, payment.transaction.created and
  // warehouse.stock.removed (one event per fact), plus order.state.cancelling/.cancelled,
  // shipping.shipment.delivered/.cancelled and shipping.shipment.allocation.failed (failures apart,
  // as warehouse.reservation.failed).
  assert.equal(TOPICS.size, 27 - 3 + 5);
  for (
    const gone of [
      "payment.balance.debited",
      "payment.transaction.created",
      "warehouse.stock.removed",
    ]
  ) assert.ok(!TOPICS.has(gone), gone);
  for (
    const t of [
      "order.state.cancelling",
      "order.state.cancelled",
      "shipping.shipment.dispatched",
      "shipping.shipment.delivered",
      "shipping.shipment.cancelled",
      "shipping.shipment.allocation.failed",
    ]
  ) assert.ok(TOPICS.has(t), t);
  assert.equal(TOPICS.get("warehouse.reservation.returned")?.name, "StockReservationEvent");
  assert.equal(
    TOPICS.get("shipping.shipment.allocation.failed")?.name,
    "ShipmentAllocationEvent",
  );
  assert.equal(TOPICS.get("payment.processing")?.name, "PaymentProcessedEvent");
  for (const schema of EVENT_SCHEMAS) {
    if (schema.name === "OrderMetadata") continue;
    assert.ok([...TOPICS.values()].includes(schema), `${schema.name} has no topic`);
    assert.equal(schema.fields.find((f) => f.number === 1)?.name, "revision", schema.name);
  }
});
