/**
 * The edge's route table: every public route of every service, derived from the `google.api.http`
 * annotations of the generated descriptors by the kit (the same derivation the services' REST
 * gateways use) and placed under the topology. The local edge routes with it and the Envoy and
 * OpenAPI generators write it out, so all of them agree by construction.
 * @module
 */
import { type DescService, hasOption } from "@bufbuild/protobuf";
import * as proto from "@stocklet/shared/proto";
import { routesOfService, type RouteSpec, sortRoutes } from "@stocklet/shared/server/routes";
import { type ServiceName, SERVICES } from "@stocklet/shared/topology";
import { type Access, accessOf } from "./access.ts";
import { DEFAULT_UPSTREAM_TIMEOUT_MS } from "./policy.ts";

export type { Verb } from "@stocklet/shared/server/routes";

/** One public route. */
export interface EdgeRoute extends RouteSpec {
  /** The service that serves it. */
  service: ServiceName;
  /** The RPC's full name, e.g. `stocklet.order.v1.OrderService.ViewOrder`. */
  rpc: string;
  /** Who may call it (enforced by the service; see access.ts). */
  access: Access;
  /** The upstream timeout (ms). */
  timeoutMs: number;
}

/**
 * Per-RPC upstream timeouts that differ from the default. The calls that run scrypt at OWASP's
 * cost (about 0.3 s of CPU and 128 MiB each) queue on the user service's thread pool under a
 * burst, so they get longer than the default.
 */
export const ROUTE_TIMEOUTS_MS: Readonly<Record<string, number>> = {
  "stocklet.auth.v1.AuthService.LoginPassword": 30_000,
  "stocklet.auth.v1.AuthService.SetPassword": 30_000,
  "stocklet.user.v1.UserService.RegisterUser": 30_000,
};

/** Options for {@linkcode edgeRoutes}. */
export interface EdgeRoutesOptions {
  /** The upstream timeout of routes without their own. @default 10_000 */
  timeoutMs?: number;
}

/** The services of a proto namespace (the exported `GenService` values). */
function servicesOf(namespace: Record<string, unknown>): DescService[] {
  return Object.values(namespace).filter((v): v is DescService =>
    typeof v === "object" && v !== null && (v as { kind?: unknown }).kind === "service"
  );
}

/** The public (HTTP-annotated) proto services of each Stocklet service. */
export function publicServices(): Array<{ service: ServiceName; desc: DescService }> {
  const namespaces = proto as unknown as Record<string, Record<string, unknown>>;
  const out: Array<{ service: ServiceName; desc: DescService }> = [];
  for (const spec of SERVICES) {
    const ns = namespaces[spec.name];
    if (!ns) throw new Error(`no generated proto package for service ${spec.name}`);
    for (const desc of servicesOf(ns)) {
      if (desc.methods.some((m) => hasOption(m, proto.httpRule))) {
        out.push({ service: spec.name, desc });
      }
    }
  }
  return out;
}

/** The path prefix every public route of a service lives under (`/v1/<service>`). */
export function servicePrefix(service: ServiceName): string {
  return `/v1/${service}`;
}

/**
 * Every public route, grouped by service in topology order and, within a service, in the order
 * the kit tries routes in (literal segments win over variables: `/v1/product/list` before
 * `/v1/product/{id}`). Throws when an annotation is unsupported or a route leaves its service's
 * prefix.
 */
export function edgeRoutes(opts: EdgeRoutesOptions = {}): EdgeRoute[] {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS;
  const routes: EdgeRoute[] = [];
  for (const { service, desc } of publicServices()) {
    const prefix = servicePrefix(service);
    const own = routesOfService(desc).map((route): EdgeRoute => {
      const rpc = `${desc.typeName}.${route.method.name}`;
      if (route.template !== prefix && !route.template.startsWith(prefix + "/")) {
        throw new Error(`${rpc}: ${route.template} is outside ${prefix}`);
      }
      return {
        ...route,
        service,
        rpc,
        access: accessOf(rpc),
        timeoutMs: ROUTE_TIMEOUTS_MS[rpc] ?? timeoutMs,
      };
    });
    routes.push(...sortRoutes(own));
  }
  return routes;
}

/** Finds the route of a request. */
export interface Router {
  /** The route for a verb and a path (no query string), or undefined. */
  match(verb: string, path: string): EdgeRoute | undefined;
}

/** The first two segments of a path (`/v1/product/x` → `/v1/product`), the router's bucket key. */
function bucketOf(path: string): string {
  const first = path.indexOf("/", 1);
  if (first < 0) return path;
  const second = path.indexOf("/", first + 1);
  return second < 0 ? path : path.slice(0, second);
}

/**
 * A router over routes in priority order: requests are bucketed by their first two segments
 * (`/v1/<service>`), then the bucket's patterns are tried in order.
 *
 * @example
 * ```ts
 * const router = routerOf(edgeRoutes());
 * router.match("GET", "/v1/product/list")?.rpc; // "stocklet.product.v1.ProductService.ViewProducts"
 * ```
 */
export function routerOf(routes: readonly EdgeRoute[]): Router {
  const buckets = new Map<string, Array<{ route: EdgeRoute; re: RegExp }>>();
  for (const route of routes) {
    const key = bucketOf(route.template);
    if (key.includes("{")) {
      throw new Error(`${route.template}: variables in the first two segments`);
    }
    let list = buckets.get(key);
    if (!list) buckets.set(key, list = []);
    list.push({ route, re: new RegExp(route.pattern) });
  }
  return {
    match(verb: string, path: string): EdgeRoute | undefined {
      const list = buckets.get(bucketOf(path));
      if (!list) return undefined;
      for (const { route, re } of list) {
        if (route.verb === verb && re.test(path)) return route;
      }
      return undefined;
    },
  };
}
