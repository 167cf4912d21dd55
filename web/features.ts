/**
 * Which optional routes the contracts declare, so that pages offer only what works: the
 * notifications page once the notification service's `GET /v1/notification/list` exists, the
 * "Cancel order" button once `POST /v1/order/orders/{order_id}/cancel` does (issue 15). Read from
 * the generated descriptors (the same source as the edge's route table), so regenerating the code
 * after the contract changes is all it takes.
 * @module
 */
import { type DescService, getOption, hasOption } from "@bufbuild/protobuf";
import * as proto from "@stocklet/shared/proto";
import type { Features } from "./pages/layout.tsx";

/** Every `google.api.http` route of the contracts as `VERB template`. */
export function declaredRoutes(): Set<string> {
  const out = new Set<string>();
  for (const ns of Object.values(proto as unknown as Record<string, Record<string, unknown>>)) {
    if (typeof ns !== "object" || ns === null) continue;
    for (const v of Object.values(ns)) {
      const desc = v as DescService;
      if (typeof v !== "object" || v === null || desc.kind !== "service") continue;
      for (const m of desc.methods) {
        if (!hasOption(m, proto.httpRule)) continue;
        const rule = getOption(m, proto.httpRule).pattern;
        if (rule.case && rule.case !== "custom") {
          out.add(`${rule.case.toUpperCase()} ${rule.value}`);
        }
      }
    }
  }
  return out;
}

/** The optional features the contracts support. */
export function features(routes: ReadonlySet<string> = declaredRoutes()): Features {
  return {
    notifications: routes.has("GET /v1/notification/list"),
    cancel: routes.has("POST /v1/order/orders/{order_id}/cancel"),
  };
}
