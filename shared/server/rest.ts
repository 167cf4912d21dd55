/**
 * The REST gateway: a Hono app that serves every annotated RPC of the given services through the
 * shared call pipeline, plus `/healthz` and `/readyz`.
 * @module
 */
import { type DescMessage, type MessageShape, toJson } from "@bufbuild/protobuf";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { bearerToken, type TokenVerifier } from "../auth.ts";
import {
  AT_CAPACITY_HEADER,
  Code,
  errorBody,
  httpStatusOf,
  ServiceError,
  toServiceError,
} from "../errors.ts";
import { uuidv7 } from "../ids.ts";
import type { ServiceBinding } from "./handler.ts";
import { checkReadiness, type ReadinessChecks } from "./health.ts";
import { invoke } from "./pipeline.ts";
import { sortRoutes } from "./routes.ts";
import { buildRequest, parseJsonBody, routesOf } from "./transcode.ts";

/** Options for {@linkcode restApp}. */
export interface RestOptions {
  bindings: ServiceBinding[];
  verifier?: TokenVerifier;
  readiness?: ReadinessChecks;
  /** Largest accepted request body. @default 1 MiB */
  bodyLimitBytes?: number;
}

function errorResponse(err: unknown, requestId: string): Response {
  const se = toServiceError(err);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-request-id": requestId,
  };
  if (se.retryAfterSeconds !== undefined) headers["retry-after"] = String(se.retryAfterSeconds);
  if (se.atCapacity) headers[AT_CAPACITY_HEADER] = "1";
  return new Response(JSON.stringify(errorBody(se)), {
    status: httpStatusOf(se.code),
    headers,
  });
}

/** Builds the REST app of a service. */
export function restApp(opts: RestOptions): Hono {
  const app = new Hono();
  const limit = opts.bodyLimitBytes ?? 1024 * 1024;
  app.use(
    "*",
    bodyLimit({
      maxSize: limit,
      onError: (c) =>
        c.json(
          errorBody(
            new ServiceError(Code.RESOURCE_EXHAUSTED, `request body larger than ${limit} bytes`),
          ),
          413,
        ),
    }),
  );
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    const r = await checkReadiness(opts.readiness ?? {});
    return c.json(r, r.ready ? 200 : 503);
  });
  const routes = sortRoutes(opts.bindings.flatMap(routesOf));
  for (const route of routes) {
    app.on(route.verb, route.routerPath, async (c) => {
      const requestId = c.req.header("x-request-id") ?? uuidv7();
      try {
        const token = bearerToken(c.req.header("authorization"));
        const body = route.body ? parseJsonBody(await c.req.text()) : undefined;
        const request = buildRequest(route, c.req.param(), new URL(c.req.url).searchParams, body);
        const response = await invoke({
          binding: route.binding,
          method: route.method,
          request,
          token,
          requestId,
          transport: "http",
        }, opts.verifier);
        const json = toJson(route.method.output, response as MessageShape<DescMessage>, {
          alwaysEmitImplicit: true,
        });
        const seconds = route.binding.publicCacheSeconds?.[route.method.localName];
        const cacheControl = route.verb !== "GET"
          ? undefined
          : token === undefined && seconds
          ? `public, max-age=${seconds}`
          : "private, no-store";
        return c.json(json as Record<string, unknown>, 200 as ContentfulStatusCode, {
          "x-request-id": requestId,
          ...(cacheControl ? { "cache-control": cacheControl } : {}),
        });
      } catch (err) {
        return errorResponse(err, requestId);
      }
    });
  }
  app.notFound((c) =>
    c.json(
      errorBody(new ServiceError(Code.NOT_FOUND, `no route for ${c.req.method} ${c.req.path}`)),
      404,
    )
  );
  app.onError((err) => errorResponse(err, ""));
  return app;
}
