/**
 * RED of a service's RPCs, recorded once per call by the one pipeline both transports share
 * (`shared/server/pipeline.ts`): `rpc.server.call.duration` (s), a histogram whose count is the
 * request rate, split by transport (`rpc.system.name`: `grpc`, or `http` for the REST gateway),
 * method (`rpc.method`, `stocklet.order.v1.OrderService/PlaceOrder`) and status
 * (`rpc.response.status_code`, the gRPC code's name); a failed call (a server-side status, as the
 * gRPC conventions count failures) also carries `error.type`.
 * @module
 */
import type { Attributes } from "@opentelemetry/api";
import { Code } from "../errors.ts";
import { meter, REQUEST_BUCKETS } from "./meter.ts";

const duration = meter.createHistogram("rpc.server.call.duration", {
  description: "Duration of inbound RPCs, per transport, method and status",
  unit: "s",
  advice: { explicitBucketBoundaries: [...REQUEST_BUCKETS] },
});

const CODE_NAMES: readonly string[] = Object.entries(Code).sort((a, b) => a[1] - b[1]).map((e) =>
  e[0]
);

/** Statuses that mean the server failed (the gRPC conventions' server-side errors). */
const SERVER_ERRORS: ReadonlySet<number> = new Set([
  Code.UNKNOWN,
  Code.DEADLINE_EXCEEDED,
  Code.UNIMPLEMENTED,
  Code.INTERNAL,
  Code.UNAVAILABLE,
  Code.DATA_LOSS,
]);

/** The name of a gRPC status code (`NOT_FOUND`). */
export function codeName(code: number): string {
  return CODE_NAMES[code] ?? String(code);
}

/** Whether a status means the server failed (not the caller). */
export function isServerError(code: number): boolean {
  return SERVER_ERRORS.has(code);
}

// Attribute sets are few (transport × method × status) and reused, so a call allocates none.
const attributeSets = new Map<string, Attributes>();

/** The attributes of one call's measurement. */
export function rpcAttributes(
  transport: "grpc" | "http",
  method: string,
  code: number,
): Attributes {
  const key = `${transport} ${method} ${code}`;
  let attrs = attributeSets.get(key);
  if (!attrs) {
    const status = codeName(code);
    attrs = {
      "rpc.system.name": transport,
      "rpc.method": method,
      "rpc.response.status_code": status,
      ...(isServerError(code) ? { "error.type": status } : {}),
    };
    attributeSets.set(key, attrs);
  }
  return attrs;
}

/**
 * Records one call.
 *
 * @param method The fully qualified method, `package.Service/Method`.
 * @param seconds How long the call took.
 */
export function recordRpc(
  transport: "grpc" | "http",
  method: string,
  code: number,
  seconds: number,
): void {
  duration.record(seconds, rpcAttributes(transport, method, code));
}
