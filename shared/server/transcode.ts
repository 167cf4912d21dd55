/**
 * REST ⇄ protobuf transcoding from `google.api.http` annotations, as grpc-gateway does it:
 * path parameters, query parameters for the fields not bound elsewhere, `body: "*"` or a single-field
 * body, proto3 JSON in (proto or lowerCamelCase names) and out.
 * @module
 */
import {
  type DescField,
  type DescMessage,
  type DescMethod,
  fromJson,
  getOption,
  hasOption,
  type JsonObject,
  type JsonValue,
  type MessageShape,
  ScalarType,
} from "@bufbuild/protobuf";
import { http as httpRule } from "../gen/google/api/annotations_pb.ts";
import { Code, type ErrorDetail, ServiceError } from "../errors.ts";
import type { ServiceBinding } from "./handler.ts";

/** An HTTP verb. */
export type Verb = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** One REST route derived from an RPC's HTTP rule. */
export interface HttpRoute {
  verb: Verb;
  /** The annotation's template, e.g. `/v1/order/orders/{order_id}`. */
  template: string;
  /** The same for Hono, e.g. `/v1/order/orders/:p0`. */
  routerPath: string;
  /** Hono parameter → proto field path. */
  params: Array<{ name: string; fieldPath: string[] }>;
  /** `""` (no body), `"*"` (whole message) or a top-level field name. */
  body: string;
  method: DescMethod;
  binding: ServiceBinding;
  /** How many literal segments the template has (more literal routes win). */
  literals: number;
}

function badRequest(message: string, details: ErrorDetail[] = []): ServiceError {
  return new ServiceError(Code.INVALID_ARGUMENT, message, details);
}

/** Parses an HTTP rule's template into a router path and its parameters. */
export function parseTemplate(
  template: string,
): Pick<HttpRoute, "routerPath" | "params" | "literals"> {
  if (!template.startsWith("/")) throw new Error(`template ${template} must start with /`);
  const params: HttpRoute["params"] = [];
  let literals = 0;
  const segs = template.slice(1).split("/").map((seg) => {
    const m = /^\{([a-z_][a-z0-9_.]*)(=\*)?\}$/.exec(seg);
    if (m) {
      const name = `p${params.length}`;
      params.push({ name, fieldPath: m[1]!.split(".") });
      return `:${name}`;
    }
    if (/[{}*:]/.test(seg)) throw new Error(`unsupported template segment ${seg} in ${template}`);
    literals++;
    return seg;
  });
  return { routerPath: "/" + segs.join("/"), params, literals };
}

/** Every REST route of a service, from its methods' HTTP rules (methods without one are gRPC-only). */
export function routesOf(binding: ServiceBinding): HttpRoute[] {
  const routes: HttpRoute[] = [];
  for (const method of binding.desc.methods) {
    if (!hasOption(method, httpRule)) continue;
    const rule = getOption(method, httpRule);
    const c = rule.pattern.case;
    if (c === undefined || c === "custom") throw new Error(`${method.name}: unsupported HTTP rule`);
    const template = rule.pattern.value as string;
    routes.push({
      verb: c.toUpperCase() as Verb,
      template,
      ...parseTemplate(template),
      body: rule.body,
      method,
      binding,
    });
    if (rule.body && rule.body !== "*" && !method.input.fields.some((f) => f.name === rule.body)) {
      throw new Error(`${method.name}: body field ${rule.body} does not exist`);
    }
  }
  return routes;
}

/** Routes ordered so that literal segments win over parameters (`/v1/product/list` before `/{id}`). */
export function sortRoutes(routes: HttpRoute[]): HttpRoute[] {
  return [...routes].sort((a, b) =>
    b.literals - a.literals || a.params.length - b.params.length ||
    a.template.localeCompare(b.template)
  );
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
  if (kind === "enum") return /^-?\d+$/.test(raw) ? Number(raw) : raw;
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
