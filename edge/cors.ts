/**
 * CORS for a browser front end: preflights are answered at the edge, and every response to an
 * allowed origin carries `access-control-allow-origin`. Bearer tokens travel in a header, so
 * credentials (cookies) are never allowed.
 * @module
 */
import { Code, errorBody, ServiceError } from "@stocklet/shared/errors";
import {
  CORS_ALLOW_HEADERS,
  CORS_ALLOW_METHODS,
  CORS_EXPOSE_HEADERS,
  CORS_MAX_AGE_SECONDS,
} from "./policy.ts";

/** CORS for a set of origins. */
export interface Cors {
  /** The answer to a preflight request, or undefined when the request is not one. */
  preflight(req: Request): Response | undefined;
  /** Adds the response headers for the request's `Origin` (no-op without one). */
  decorate(headers: Headers, origin: string | null): void;
}

const ALLOW_METHODS = CORS_ALLOW_METHODS.join(", ");
const ALLOW_HEADERS = CORS_ALLOW_HEADERS.join(", ");
const EXPOSE_HEADERS = CORS_EXPOSE_HEADERS.join(", ");

/**
 * CORS for the given origins (`["*"]` for any origin).
 *
 * @param origins Allowed origins, e.g. `["https://shop.example"]`, or `["*"]`.
 * @returns The preflight handler and the response decorator.
 * @example
 * ```ts
 * const cors = corsFor(["*"]);
 * const answer = cors.preflight(req); // a 204 for an OPTIONS preflight
 * ```
 */
export function corsFor(origins: readonly string[]): Cors {
  const any = origins.includes("*");
  const allowed = new Set(origins);

  function allowOrigin(origin: string): string | undefined {
    if (any) return "*";
    return allowed.has(origin) ? origin : undefined;
  }

  return {
    preflight(req: Request): Response | undefined {
      if (req.method !== "OPTIONS") return undefined;
      const origin = req.headers.get("origin");
      if (origin === null || !req.headers.has("access-control-request-method")) return undefined;
      const allow = allowOrigin(origin);
      if (allow === undefined) {
        const body = errorBody(
          new ServiceError(Code.PERMISSION_DENIED, `origin ${origin} is not allowed`),
        );
        return Response.json(body, { status: 403, headers: { vary: "origin" } });
      }
      const headers = new Headers({
        "access-control-allow-origin": allow,
        "access-control-allow-methods": ALLOW_METHODS,
        "access-control-allow-headers": ALLOW_HEADERS,
        "access-control-max-age": String(CORS_MAX_AGE_SECONDS),
      });
      if (!any) headers.set("vary", "origin");
      return new Response(null, { status: 204, headers });
    },
    decorate(headers: Headers, origin: string | null): void {
      if (origin === null) return;
      const allow = allowOrigin(origin);
      if (allow === undefined) return;
      headers.set("access-control-allow-origin", allow);
      headers.set("access-control-expose-headers", EXPOSE_HEADERS);
      if (!any) headers.append("vary", "origin");
    },
  };
}
