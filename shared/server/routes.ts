/**
 * REST routes from `google.api.http` annotations: the one derivation every HTTP surface uses — a
 * service's REST gateway (Hono paths), the edge's router (whole-path regular expressions), its
 * OpenAPI document and the Envoy configuration — so they cannot disagree on a path, a variable or
 * which of two overlapping routes wins.
 * @module
 */
import { type DescMethod, type DescService, getOption, hasOption } from "@bufbuild/protobuf";
import { http as httpRule } from "../gen/google/api/annotations_pb.ts";

/** An HTTP verb. */
export type Verb = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** A variable of a path template. */
export interface TemplateParam {
  /** Its name in {@linkcode RouteSpec.routerPath} (`p0`, `p1`, …). */
  name: string;
  /** The request field it sets (`["order_id"]`, `["a", "b"]`). */
  fieldPath: string[];
}

/** A path template, compiled. */
export interface CompiledTemplate {
  /** The same path for Hono's router, e.g. `/v1/order/orders/:p0`. */
  routerPath: string;
  /**
   * A regular expression (RE2 and JavaScript alike, for the edge and Envoy) that matches the whole
   * path, e.g. `^/v1/order/orders/[^/]+$`.
   */
  pattern: string;
  /** The variables, in order. */
  params: TemplateParam[];
  /** How many literal segments the template has: more literal routes are tried first. */
  literals: number;
}

/** One REST route of an RPC. */
export interface RouteSpec extends CompiledTemplate {
  /** The RPC. */
  method: DescMethod;
  verb: Verb;
  /** The annotation's path template, e.g. `/v1/order/orders/{order_id}`. */
  template: string;
  /** `""` (no body), `"*"` (the whole request) or the request field the body fills. */
  body: string;
}

const SEGMENT_VAR = /^\{([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*)(?:=\*)?\}$/;

function escapeRegex(literal: string): string {
  return literal.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Compiles a path template. Supported: literal segments and single-segment variables (`{id}`,
 * `{a.b}`, `{id=*}`); anything else (`**`, custom verbs, empty segments) throws.
 *
 * @example
 * ```ts
 * parseTemplate("/v1/product/{id}");
 * // { routerPath: "/v1/product/:p0", pattern: "^/v1/product/[^/]+$",
 * //   params: [{ name: "p0", fieldPath: ["id"] }], literals: 2 }
 * ```
 */
export function parseTemplate(template: string): CompiledTemplate {
  if (!template.startsWith("/")) throw new Error(`template ${template} must start with /`);
  const params: TemplateParam[] = [];
  const router: string[] = [];
  const regex: string[] = [];
  let literals = 0;
  for (const seg of template.slice(1).split("/")) {
    const m = SEGMENT_VAR.exec(seg);
    if (m) {
      const name = `p${params.length}`;
      params.push({ name, fieldPath: m[1]!.split(".") });
      router.push(`:${name}`);
      regex.push("[^/]+");
      continue;
    }
    if (seg === "" || /[{}*:]/.test(seg)) {
      throw new Error(`unsupported template segment "${seg}" in ${template}`);
    }
    literals++;
    router.push(seg);
    regex.push(escapeRegex(seg));
  }
  return {
    routerPath: `/${router.join("/")}`,
    pattern: `^/${regex.join("/")}$`,
    params,
    literals,
  };
}

/**
 * The REST routes of a proto service, one per HTTP-annotated method (methods without an
 * annotation are gRPC-only), in declaration order. Throws on what the gateways cannot serve:
 * custom verbs, additional bindings, a body field the request does not have, a bad template.
 */
export function routesOfService(desc: DescService): RouteSpec[] {
  const routes: RouteSpec[] = [];
  for (const method of desc.methods) {
    if (!hasOption(method, httpRule)) continue;
    const where = `${desc.typeName}.${method.name}`;
    const rule = getOption(method, httpRule);
    const kind = rule.pattern.case;
    if (kind === undefined || kind === "custom") throw new Error(`${where}: unsupported HTTP rule`);
    if (rule.additionalBindings.length) {
      throw new Error(`${where}: additional_bindings are not supported`);
    }
    if (rule.body && rule.body !== "*" && !method.input.fields.some((f) => f.name === rule.body)) {
      throw new Error(`${where}: body field ${rule.body} does not exist`);
    }
    const template = rule.pattern.value as string;
    routes.push({
      method,
      verb: kind.toUpperCase() as Verb,
      template,
      ...parseTemplate(template),
      body: rule.body,
    });
  }
  return routes;
}

/**
 * The order routes are tried in: more literal segments first (`/v1/product/list` before
 * `/v1/product/{id}`), then fewer variables, then by template and verb (a stable, total order).
 */
export function compareRoutes(
  a: Pick<RouteSpec, "literals" | "params" | "template" | "verb">,
  b: Pick<RouteSpec, "literals" | "params" | "template" | "verb">,
): number {
  return b.literals - a.literals || a.params.length - b.params.length ||
    a.template.localeCompare(b.template) || a.verb.localeCompare(b.verb);
}

/** Routes in the order they are tried in ({@linkcode compareRoutes}). */
export function sortRoutes<R extends Pick<RouteSpec, "literals" | "params" | "template" | "verb">>(
  routes: readonly R[],
): R[] {
  return [...routes].sort(compareRoutes);
}
