/**
 * The OpenAPI 3 document of the public API, generated from the route table and the proto
 * descriptors. Schemas follow proto3 JSON as the services speak it: lowerCamelCase names (or a
 * field's `json_name`), 64-bit integers as strings, enums by name, Timestamps as RFC 3339 strings,
 * maps as objects. `deno task gen` writes it to docs/openapi.json; the edge serves it at
 * `/openapi.json` and Swagger UI at `/docs`.
 * @module
 */
import {
  type DescEnum,
  type DescField,
  type DescMessage,
  getOption,
  hasOption,
  ScalarType,
} from "@bufbuild/protobuf";
import {
  field as fieldRulesExt,
  type FieldRules,
  oneof as oneofRulesExt,
} from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import type { Access } from "./access.ts";
import { type EdgeRoute, edgeRoutes } from "./routes.ts";

/** A JSON Schema / OpenAPI object. */
export type JsonObject = { [key: string]: JsonValue };
/** A JSON value. */
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;

/** Options for {@linkcode openApiDocument}. */
export interface OpenApiOptions {
  /** The routes to describe. @default edgeRoutes() */
  routes?: readonly EdgeRoute[];
  /** Proto comments by full name (see proto_comments.ts), used as descriptions. */
  comments?: ReadonlyMap<string, string>;
  /** The document's `info.version`. @default "0.1.0" */
  version?: string;
}

/** The name of the bearer security scheme. */
export const BEARER_SCHEME = "bearerAuth";
/** The component name of the error body schema. */
export const ERROR_SCHEMA = "Error";

const ERROR_RESPONSE_REF: JsonObject = { $ref: "#/components/responses/Error" };

/** An error response with its own description. */
function errorResponse(description: string): JsonObject {
  return {
    description,
    content: { "application/json": { schema: { $ref: `#/components/schemas/${ERROR_SCHEMA}` } } },
  };
}

function scalarSchema(scalar: ScalarType): JsonObject {
  switch (scalar) {
    case ScalarType.STRING:
      return { type: "string" };
    case ScalarType.BYTES:
      return { type: "string", format: "byte" };
    case ScalarType.BOOL:
      return { type: "boolean" };
    case ScalarType.FLOAT:
      return { type: "number", format: "float" };
    case ScalarType.DOUBLE:
      return { type: "number", format: "double" };
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return { type: "integer", format: "int32" };
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return { type: "integer", format: "int64", minimum: 0, maximum: 4294967295 };
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return { type: "string", format: "int64", pattern: "^-?[0-9]+$" };
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return { type: "string", format: "uint64", pattern: "^[0-9]+$" };
  }
}

/** Schemas of the well-known types in proto3 JSON. */
function wellKnownSchema(typeName: string): JsonObject | undefined {
  switch (typeName) {
    case "google.protobuf.Timestamp":
      return { type: "string", format: "date-time", example: "2026-01-01T12:00:00Z" };
    case "google.protobuf.Duration":
      return { type: "string", pattern: "^-?[0-9]+(\\.[0-9]{1,9})?s$", example: "1.5s" };
    case "google.protobuf.FieldMask":
      return { type: "string", description: "Comma-separated lowerCamelCase field paths." };
    case "google.protobuf.Empty":
      return { type: "object" };
    case "google.protobuf.Struct":
      return { type: "object", additionalProperties: true };
    case "google.protobuf.Value":
      return {};
    case "google.protobuf.ListValue":
      return { type: "array", items: {} };
    case "google.protobuf.StringValue":
      return { type: "string", nullable: true };
    case "google.protobuf.BytesValue":
      return { type: "string", format: "byte", nullable: true };
    case "google.protobuf.BoolValue":
      return { type: "boolean", nullable: true };
    case "google.protobuf.Int32Value":
    case "google.protobuf.UInt32Value":
      return { type: "integer", nullable: true };
    case "google.protobuf.Int64Value":
    case "google.protobuf.UInt64Value":
      return { type: "string", format: "int64", nullable: true };
    case "google.protobuf.FloatValue":
    case "google.protobuf.DoubleValue":
      return { type: "number", nullable: true };
    case "google.protobuf.Any":
      return {
        type: "object",
        properties: { "@type": { type: "string" } },
        additionalProperties: true,
      };
  }
  return undefined;
}

/** A `greater_than` or `less_than` oneof of protovalidate's numeric rules. */
type Bound = { case: string | undefined; value?: unknown };

/** Constraints of numeric rules (`gt`, `gte`, `lt`, `lte`) on an integer/number schema. */
function numericBounds(
  schema: JsonObject,
  rules: { greaterThan: Bound; lessThan: Bound },
  asText: boolean,
): string[] {
  const notes: string[] = [];
  const apply = (b: Bound): void => {
    if (b.value === undefined) return;
    const v = b.value as number | bigint;
    if (asText) {
      const op = { gt: ">", gte: "≥", lt: "<", lte: "≤" }[b.case as string];
      if (op) notes.push(`${op} ${v}`);
      return;
    }
    const n = Number(v);
    if (b.case === "gt") Object.assign(schema, { minimum: n, exclusiveMinimum: true });
    if (b.case === "gte") schema.minimum = n;
    if (b.case === "lt") Object.assign(schema, { maximum: n, exclusiveMaximum: true });
    if (b.case === "lte") schema.maximum = n;
  };
  apply(rules.greaterThan);
  apply(rules.lessThan);
  return notes;
}

/** Applies protovalidate rules to a schema; returns notes for rules a schema cannot express. */
function applyRules(schema: JsonObject, rules: FieldRules): string[] {
  const notes: string[] = [];
  if (rules.required) notes.push("Required.");
  const t = rules.type;
  switch (t.case) {
    case "string": {
      const r = t.value;
      if (r.minLen) schema.minLength = Number(r.minLen);
      if (r.maxLen) schema.maxLength = Number(r.maxLen);
      if (r.pattern) schema.pattern = r.pattern;
      if (r.wellKnown.case === "email") schema.format = "email";
      if (r.wellKnown.case === "uuid") schema.format = "uuid";
      if (r.wellKnown.case === "uri") schema.format = "uri";
      break;
    }
    case "int32":
    case "sint32":
    case "sfixed32":
    case "uint32":
    case "fixed32":
    case "float":
    case "double":
      numericBounds(schema, t.value, false);
      break;
    case "int64":
    case "sint64":
    case "sfixed64":
    case "uint64":
    case "fixed64": {
      const bounds = numericBounds(schema, t.value, true);
      if (bounds.length) notes.push(`Value ${bounds.join(" and ")}.`);
      break;
    }
    case "repeated": {
      if (t.value.minItems) schema.minItems = Number(t.value.minItems);
      if (t.value.maxItems) schema.maxItems = Number(t.value.maxItems);
      if (t.value.unique) schema.uniqueItems = true;
      if (t.value.items && typeof schema.items === "object" && schema.items !== null) {
        notes.push(...applyRules(schema.items as JsonObject, t.value.items));
      }
      break;
    }
    case "map": {
      if (t.value.minPairs) schema.minProperties = Number(t.value.minPairs);
      if (t.value.maxPairs) schema.maxProperties = Number(t.value.maxPairs);
      const keys = t.value.keys?.type;
      if (keys?.case === "string") {
        const k = keys.value;
        if (k.wellKnown.case === "uuid") notes.push("Keys are UUIDs.");
        else if (k.pattern) notes.push(`Keys match \`${k.pattern}\`.`);
      }
      if (t.value.values && typeof schema.additionalProperties === "object") {
        notes.push(...applyRules(schema.additionalProperties as JsonObject, t.value.values));
      }
      break;
    }
    default:
      break;
  }
  return notes;
}

function joinText(...parts: Array<string | undefined>): string | undefined {
  const text = parts.filter((p) => p !== undefined && p !== "").join("\n\n");
  return text === "" ? undefined : text;
}

/** Builds component schemas on demand, one per message and enum, named by full proto name. */
class Schemas {
  readonly components: Record<string, JsonObject> = {};
  readonly #comments: ReadonlyMap<string, string>;

  constructor(comments: ReadonlyMap<string, string>) {
    this.#comments = comments;
  }

  comment(name: string): string | undefined {
    return this.#comments.get(name);
  }

  enumRef(desc: DescEnum): JsonObject {
    if (!(desc.typeName in this.components)) {
      const schema: JsonObject = { type: "string", enum: desc.values.map((v) => v.name) };
      const text = this.comment(desc.typeName);
      if (text) schema.description = text;
      this.components[desc.typeName] = schema;
    }
    return { $ref: `#/components/schemas/${desc.typeName}` };
  }

  messageRef(desc: DescMessage): JsonObject {
    const wkt = wellKnownSchema(desc.typeName);
    if (wkt) return { ...wkt };
    if (!(desc.typeName in this.components)) {
      this.components[desc.typeName] = {}; // placeholder: recursive messages terminate here
      this.components[desc.typeName] = this.objectSchema(desc, desc.fields, desc.typeName);
    }
    return { $ref: `#/components/schemas/${desc.typeName}` };
  }

  /** An object schema with the given fields of a message. */
  objectSchema(desc: DescMessage, fields: readonly DescField[], name?: string): JsonObject {
    const properties: JsonObject = {};
    for (const f of fields) properties[f.jsonName] = this.fieldSchema(f);
    const schema: JsonObject = { type: "object", properties };
    const notes: string[] = [];
    for (const o of desc.oneofs) {
      if (!fields.some((f) => f.oneof === o)) continue;
      const names = o.fields.map((f) => `\`${f.jsonName}\``).join(", ");
      const required = hasOption(o, oneofRulesExt) && getOption(o, oneofRulesExt).required;
      notes.push(`${required ? "Exactly" : "At most"} one of ${names}.`);
    }
    const text = joinText(name ? this.comment(name) : undefined, ...notes);
    if (text) schema.description = text;
    return schema;
  }

  /** The schema of one value of a field (its element, for lists). */
  #valueSchema(
    kind: "scalar" | "enum" | "message",
    f: { scalar?: ScalarType; enum?: DescEnum; message?: DescMessage },
  ): JsonObject {
    if (kind === "scalar") return scalarSchema(f.scalar!);
    if (kind === "enum") return this.enumRef(f.enum!);
    return this.messageRef(f.message!);
  }

  /** The schema of a field, with its comment and validation rules. */
  fieldSchema(field: DescField): JsonObject {
    let schema: JsonObject;
    switch (field.fieldKind) {
      case "scalar":
        schema = scalarSchema(field.scalar);
        break;
      case "enum":
        schema = this.enumRef(field.enum);
        break;
      case "message":
        schema = this.messageRef(field.message);
        break;
      case "list":
        schema = {
          type: "array",
          items: this.#valueSchema(field.listKind, {
            ...(field.scalar !== undefined ? { scalar: field.scalar } : {}),
            ...(field.enum ? { enum: field.enum } : {}),
            ...(field.message ? { message: field.message } : {}),
          }),
        };
        break;
      case "map":
        schema = {
          type: "object",
          additionalProperties: this.#valueSchema(field.mapKind, {
            ...(field.scalar !== undefined ? { scalar: field.scalar } : {}),
            ...(field.enum ? { enum: field.enum } : {}),
            ...(field.message ? { message: field.message } : {}),
          }),
        };
        break;
    }
    const notes = hasOption(field, fieldRulesExt)
      ? applyRules(schema, getOption(field, fieldRulesExt))
      : [];
    if (field.proto.proto3Optional) notes.push("Optional: absent when unset.");
    const text = joinText(this.comment(`${field.parent.typeName}.${field.name}`), ...notes);
    if (text) {
      // A $ref cannot carry siblings in OpenAPI 3.0: wrap it.
      if ("$ref" in schema) schema = { allOf: [schema], description: text };
      else schema.description = text;
    }
    return schema;
  }
}

/** Finds a (possibly nested) field by its proto path, e.g. `["order_id"]`. */
function fieldAt(desc: DescMessage, path: readonly string[]): DescField {
  let message = desc;
  let field: DescField | undefined;
  for (const [i, name] of path.entries()) {
    field = message.fields.find((f) => f.name === name);
    if (!field) throw new Error(`no field ${path.join(".")} in ${desc.typeName}`);
    if (i < path.length - 1) {
      if (field.fieldKind !== "message") throw new Error(`${name} is not a message`);
      message = field.message;
    }
  }
  return field!;
}

/** Query parameters for the fields of a message not bound elsewhere (scalars, enums, lists). */
function queryParams(
  schemas: Schemas,
  desc: DescMessage,
  bound: ReadonlySet<string>,
  prefix = "",
  depth = 0,
): JsonObject[] {
  const out: JsonObject[] = [];
  for (const f of desc.fields) {
    if (depth === 0 && bound.has(f.name)) continue;
    const name = prefix + f.jsonName;
    if (f.fieldKind === "message") {
      if (depth < 3 && !wellKnownSchema(f.message.typeName)) {
        out.push(...queryParams(schemas, f.message, bound, `${name}.`, depth + 1));
      } else if (wellKnownSchema(f.message.typeName)) {
        out.push(param(name, "query", schemas.fieldSchema(f), false));
      }
      continue;
    }
    if (f.fieldKind === "map") continue;
    if (f.fieldKind === "list" && f.listKind === "message") continue;
    out.push(param(name, "query", schemas.fieldSchema(f), false));
  }
  return out;
}

function param(name: string, where: "path" | "query", schema: JsonObject, required: boolean) {
  const p: JsonObject = { name, in: where, required };
  if (typeof schema.description === "string") p.description = schema.description;
  const { description: _d, ...rest } = schema;
  p.schema = rest;
  if (where === "query" && rest.type === "array") {
    Object.assign(p, { style: "form", explode: true });
  }
  return p;
}

const ACCESS_TEXT: Record<Access, string> = {
  public: "Public: no token needed (a token that is sent must be valid).",
  user: "Needs a signed-in user (`Authorization: Bearer <token>`).",
  admin: "Needs a user with the `admin` role.",
};

function firstSentence(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const para = text.split("\n\n")[0]!.replace(/\s+/g, " ").trim();
  const end = para.search(/[.!?](\s|$)/);
  const sentence = end < 0 ? para : para.slice(0, end + 1);
  return sentence.length > 120 ? sentence.slice(0, 117) + "…" : sentence;
}

function operationOf(schemas: Schemas, route: EdgeRoute): JsonObject {
  const method = route.method;
  const input = method.input;
  const comment = schemas.comment(route.rpc);
  const op: JsonObject = {
    tags: [route.service],
    operationId: `${method.parent.name}_${method.name}`,
  };
  const summary = firstSentence(comment);
  if (summary) op.summary = summary;
  op.description = joinText(comment, ACCESS_TEXT[route.access])!;

  const parameters: JsonObject[] = route.params.map((p) => {
    const schema = schemas.fieldSchema(fieldAt(input, p.fieldPath));
    return param(p.fieldPath.join("."), "path", schema, true);
  });
  const bound = new Set(route.params.map((p) => p.fieldPath[0]!));
  if (route.body === "*") {
    for (const f of input.fields) bound.add(f.name);
  } else if (route.body) {
    bound.add(route.body);
  }
  parameters.push(...queryParams(schemas, input, bound));
  if (parameters.length) op.parameters = parameters;

  if (route.body) {
    let schema: JsonObject;
    if (route.body === "*") {
      const pathBound = new Set(route.params.map((p) => p.fieldPath[0]!));
      schema = pathBound.size === 0
        ? schemas.messageRef(input)
        : schemas.objectSchema(input, input.fields.filter((f) => !pathBound.has(f.name)));
    } else {
      schema = schemas.fieldSchema(fieldAt(input, [route.body]));
    }
    op.requestBody = { required: true, content: { "application/json": { schema } } };
  }

  const responses: JsonObject = {
    "200": {
      description: "OK",
      content: { "application/json": { schema: schemas.messageRef(method.output) } },
    },
  };
  responses["401"] = errorResponse(
    route.access === "public"
      ? "The token sent is invalid or expired."
      : "Missing, invalid or expired token.",
  );
  if (route.access === "admin") responses["403"] = errorResponse("The caller is not an admin.");
  responses["4XX"] = ERROR_RESPONSE_REF;
  responses["5XX"] = ERROR_RESPONSE_REF;
  op.responses = responses;
  op.security = route.access === "public"
    ? [{}, { [BEARER_SCHEME]: [] }]
    : [{ [BEARER_SCHEME]: [] }];
  op["x-stocklet-rpc"] = route.rpc;
  op["x-stocklet-access"] = route.access;
  return op;
}

/**
 * The OpenAPI 3.0 document of every public route.
 *
 * @param opts Routes, proto comments and version.
 * @returns The document as a JSON object.
 * @example
 * ```ts
 * const doc = openApiDocument();
 * Object.keys(doc.paths as object); // ["/v1/auth/jwks", …]
 * ```
 */
export function openApiDocument(opts: OpenApiOptions = {}): JsonObject {
  const routes = opts.routes ?? edgeRoutes();
  const schemas = new Schemas(opts.comments ?? new Map());
  const paths: JsonObject = {};
  const tags: JsonObject[] = [];
  for (const route of routes) {
    if (!tags.some((t) => t.name === route.service)) {
      const tag: JsonObject = { name: route.service };
      const text = schemas.comment(route.method.parent.typeName);
      if (text) tag.description = text;
      tags.push(tag);
    }
    const item = (paths[route.template] ??= {}) as JsonObject;
    item[route.verb.toLowerCase()] = operationOf(schemas, route);
  }
  const components: JsonObject = {
    schemas: {
      [ERROR_SCHEMA]: {
        type: "object",
        description: "The error body of every failed call (grpc-gateway's shape).",
        required: ["code", "message", "details"],
        properties: {
          code: { type: "integer", format: "int32", description: "The gRPC status code." },
          message: { type: "string", description: "What went wrong, safe to show." },
          details: { type: "array", items: { $ref: "#/components/schemas/ErrorDetail" } },
        },
      },
      ErrorDetail: {
        type: "object",
        description: "One violated rule or another detail of an error.",
        required: ["message"],
        properties: {
          field: { type: "string", description: "The field at fault, e.g. `email`." },
          rule: { type: "string", description: "The rule id, e.g. `string.email`." },
          message: { type: "string" },
        },
      },
      ...Object.fromEntries(
        Object.entries(schemas.components).sort(([a], [b]) => a.localeCompare(b)),
      ),
    },
    responses: {
      Error: errorResponse("An error, as `{code, message, details}`."),
    },
    securitySchemes: {
      [BEARER_SCHEME]: {
        type: "http",
        scheme: "bearer",
        bearerFormat: "JWT",
        description: "An ES256 access token from `POST /v1/auth/login` (`data.access_token`).",
      },
    },
  };
  return {
    openapi: "3.0.3",
    info: {
      title: "Stocklet API",
      version: opts.version ?? "0.1.0",
      description: "The public REST API of Stocklet, served through the edge. Generated from the " +
        "proto contracts by `deno task gen`; do not edit.",
    },
    servers: [{ url: "/" }],
    tags,
    paths,
    components,
  };
}

/**
 * The document as the text `deno task gen` writes (2-space JSON, trailing newline).
 *
 * @param opts As for {@linkcode openApiDocument}.
 * @returns The JSON text.
 */
export function renderOpenApi(opts: OpenApiOptions = {}): string {
  return JSON.stringify(openApiDocument(opts), null, 2) + "\n";
}
