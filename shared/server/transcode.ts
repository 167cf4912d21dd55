/**
 * REST ⇄ protobuf transcoding from `google.api.http` annotations, as grpc-gateway does it:
 * path parameters, query parameters for the fields not bound elsewhere, `body: "*"` or a single-field
 * body, proto3 JSON in (proto or lowerCamelCase names) and out. The routes themselves come from
 * routes.ts, the derivation the edge uses too.
 * @module
 */
import {
  type DescField,
  type DescMessage,
  fromJson,
  type JsonObject,
  type JsonValue,
  type MessageShape,
  ScalarType,
} from "@bufbuild/protobuf";
import { Code, type ErrorDetail, ServiceError } from "../errors.ts";
import type { ServiceBinding } from "./handler.ts";
import { routesOfService, type RouteSpec } from "./routes.ts";

/** One REST route of a service: the route derived from its annotation, and the handlers. */
export interface HttpRoute extends RouteSpec {
  binding: ServiceBinding;
}

function badRequest(message: string, details: ErrorDetail[] = []): ServiceError {
  return new ServiceError(Code.INVALID_ARGUMENT, message, details);
}

/** Every REST route of a service (methods without an HTTP rule are gRPC-only). */
export function routesOf(binding: ServiceBinding): HttpRoute[] {
  return routesOfService(binding.desc).map((route) => ({ ...route, binding }));
}

function findField(desc: DescMessage, name: string): DescField | undefined {
  return desc.fields.find((f) => f.name === name || f.jsonName === name);
}

function scalarFromText(field: DescField, scalar: ScalarType, raw: string): JsonValue {
  switch (scalar) {
    case ScalarType.BOOL:
      if (raw === "true" || raw === "1") return true;
      if (raw === "false" || raw === "0") return false;
      throw badRequest(`invalid request: ${field.name} must be true or false`, [
        { field: field.name, message: "must be true or false" },
      ]);
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return raw;
    default:
      // proto3 JSON takes numbers as strings; int64 stays exact.
      return raw;
  }
}

function valueFromText(field: DescField, raw: string): JsonValue {
  const kind = field.fieldKind === "list" ? field.listKind : field.fieldKind;
  if (kind === "enum") {
    if (/^-?\d+$/.test(raw)) return Number(raw);
    // proto3 JSON decoding (ignoring unknown fields) would drop an unknown name silently.
    const names = field.enum!.values.map((v) => v.name);
    if (!names.includes(raw)) {
      const message = `must be one of ${names.join(", ")}`;
      throw badRequest(`invalid request: ${field.name}: ${raw} is no value; ${message}`, [
        { field: field.name, message },
      ]);
    }
    return raw;
  }
  if (kind === "scalar") return scalarFromText(field, field.scalar!, raw);
  throw badRequest(`invalid request: ${field.name} cannot be set from the URL`, [
    { field: field.name, message: "cannot be set from the URL" },
  ]);
}

/** Sets a (possibly nested) field of a proto3 JSON object from URL text values. */
function setFromText(
  obj: JsonObject,
  desc: DescMessage,
  path: readonly string[],
  values: string[],
  strict: boolean,
): void {
  let target = obj;
  let message = desc;
  for (let i = 0; i < path.length; i++) {
    const field = findField(message, path[i]!);
    if (!field) {
      if (strict) throw new Error(`no field ${path.join(".")} in ${desc.typeName}`);
      return; // unknown query parameters are ignored, as grpc-gateway does
    }
    if (i < path.length - 1) {
      if (field.fieldKind !== "message") return;
      const next = (target[field.jsonName] ??= {}) as JsonObject;
      target = next;
      message = field.message;
      continue;
    }
    if (field.fieldKind === "list") {
      target[field.jsonName] = values.map((v) => valueFromText(field, v));
    } else if (field.fieldKind === "scalar" || field.fieldKind === "enum") {
      target[field.jsonName] = valueFromText(field, values[values.length - 1]!);
    } else if (strict) {
      throw new Error(`${path.join(".")} cannot be a path parameter`);
    }
  }
}

function fieldOfDecodeError(message: string): string | undefined {
  const m = /field ([\w.]+)/.exec(message);
  return m ? m[1]!.split(".").pop() : undefined;
}

const INT64_SCALARS = new Set<ScalarType>([
  ScalarType.INT64,
  ScalarType.SINT64,
  ScalarType.SFIXED64,
]);
const UINT64_SCALARS = new Set<ScalarType>([ScalarType.UINT64, ScalarType.FIXED64]);

/** The rule a 64-bit value's text must meet, or undefined for other scalars. */
function int64Text(scalar: ScalarType | undefined): RegExp | undefined {
  if (scalar === undefined) return undefined;
  if (INT64_SCALARS.has(scalar)) return /^-?[0-9]+$/;
  if (UINT64_SCALARS.has(scalar)) return /^[0-9]+$/;
  return undefined;
}

/**
 * Refuses 64-bit integers (money, in cents) written as anything but a decimal integer: proto3
 * JSON says decimal, while the decoder would also take `"0x10"`, `"0b11"`, `" 1"` or a blank
 * (read as 0). An amount must mean exactly what it says.
 */
function checkInt64Text(desc: DescMessage, json: JsonValue, path: string, depth = 0): void {
  if (depth > 32 || typeof json !== "object" || json === null || Array.isArray(json)) return;
  for (const [key, value] of Object.entries(json)) {
    const field = findField(desc, key);
    if (!field || value === null) continue;
    const at = path + field.name;
    const check = (v: JsonValue, where: string, rule: RegExp | undefined) => {
      if (rule && typeof v === "string" && !rule.test(v)) {
        throw badRequest(
          `invalid request: ${where} must be a decimal integer, got ${JSON.stringify(v)}`,
          [{ field: where, rule: "int64.decimal", message: "must be a decimal integer" }],
        );
      }
    };
    switch (field.fieldKind) {
      case "scalar":
        check(value, at, int64Text(field.scalar));
        break;
      case "list":
        if (!Array.isArray(value)) break;
        value.forEach((v, i) => {
          if (field.listKind === "scalar") check(v, `${at}[${i}]`, int64Text(field.scalar));
          else if (field.listKind === "message") {
            checkInt64Text(field.message, v, `${at}[${i}].`, depth + 1);
          }
        });
        break;
      case "map":
        if (typeof value !== "object" || Array.isArray(value)) break;
        for (const [k, v] of Object.entries(value)) {
          const where = `${at}[${JSON.stringify(k)}]`;
          check(k, where, int64Text(field.mapKey));
          if (field.mapKind === "scalar") check(v, where, int64Text(field.scalar));
          else if (field.mapKind === "message") {
            checkInt64Text(field.message, v, `${where}.`, depth + 1);
          }
        }
        break;
      case "message":
        if (!field.message.typeName.startsWith("google.protobuf.")) {
          checkInt64Text(field.message, value, `${at}.`, depth + 1);
        }
        break;
      default:
        break;
    }
  }
}

/** Decodes proto3 JSON, answering 400 with the field at fault instead of throwing a bare Error. */
export function decodeJson(desc: DescMessage, json: JsonValue): MessageShape<DescMessage> {
  checkInt64Text(desc, json, "");
  try {
    return fromJson(desc, json, { ignoreUnknownFields: true });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const field = fieldOfDecodeError(msg);
    throw badRequest(`invalid request: ${msg}`, [{ ...(field ? { field } : {}), message: msg }]);
  }
}

/** Parses a request body as JSON: 400 if it is not. */
export function parseJsonBody(text: string): JsonValue | undefined {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as JsonValue;
  } catch (e) {
    throw badRequest(`invalid request: malformed JSON body (${(e as Error).message})`);
  }
}

/**
 * Builds the RPC's request message from the URL and the body (already parsed JSON or undefined):
 * body first, then query parameters for fields the body and path do not bind, then path parameters.
 */
export function buildRequest(
  route: HttpRoute,
  pathParams: Record<string, string>,
  query: URLSearchParams,
  body: JsonValue | undefined,
): MessageShape<DescMessage> {
  const desc = route.method.input;
  let json: JsonObject = {};
  const bound = new Set<string>();
  if (route.body === "*") {
    if (body !== undefined) {
      if (typeof body !== "object" || body === null || Array.isArray(body)) {
        throw badRequest("invalid request: the body must be a JSON object");
      }
      json = { ...body };
    }
    for (const f of desc.fields) bound.add(f.name);
  } else if (route.body) {
    const field = findField(desc, route.body)!;
    if (body !== undefined) json[field.jsonName] = body;
    bound.add(field.name);
  }
  for (const p of route.params) bound.add(p.fieldPath[0]!);
  for (const key of new Set(query.keys())) {
    const path = key.split(".");
    const top = findField(desc, path[0]!);
    if (!top || bound.has(top.name)) continue;
    setFromText(json, desc, path, query.getAll(key), false);
  }
  for (const p of route.params) {
    const value = pathParams[p.name];
    if (value !== undefined) setFromText(json, desc, p.fieldPath, [value], true);
  }
  return decodeJson(desc, json);
}
