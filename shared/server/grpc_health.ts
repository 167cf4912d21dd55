/**
 * gRPC's standard health service (`grpc.health.v1.Health`: Check, Watch, List), which Kubernetes'
 * gRPC probes and load balancers call, served from the kit's generated code. Semantics as gRPC
 * documents them (doc/health-checking.md): Check answers NOT_FOUND for a service it does not know;
 * Watch sends the current status at once (SERVICE_UNKNOWN for an unknown service, without ending
 * the call) and again on every change; List gives every status. See grpc_reflection.ts for why the
 * kit no longer uses `grpc-health-check`.
 * @module
 */
import { create, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import type * as grpc from "@grpc/grpc-js";
import {
  type HealthCheckRequest,
  HealthCheckResponse_ServingStatus as Status,
  HealthCheckResponseSchema,
  HealthListResponseSchema,
} from "../gen/grpc/health/v1/health_pb.ts";

export { Health } from "../gen/grpc/health/v1/health_pb.ts";

/** The statuses a server reports. */
export type ServingStatus = "SERVING" | "NOT_SERVING";

type AnyMessage = MessageShape<DescMessage>;

/** The health of a server: the statuses it reports and the grpc-js handlers that report them. */
export interface HealthService {
  /** Sets one service's status ("" is the server as a whole); Watch calls hear of a change. */
  setStatus(service: string, status: ServingStatus): void;
  /** Ends every Watch call (OK), so that a server's graceful shutdown need not wait for them. */
  endWatches(): void;
  /** The grpc-js implementation of `grpc.health.v1.Health`, for `server.addService`. */
  readonly implementation: grpc.UntypedServiceImplementation;
}

/**
 * A health service reporting the given statuses.
 *
 * @example
 * ```ts
 * const health = healthService({ "": "SERVING", "stocklet.user.v1.UserService": "SERVING" });
 * server.addService(serviceDefinition(Health), health.implementation);
 * health.setStatus("", "NOT_SERVING"); // draining
 * ```
 */
export function healthService(initial: Record<string, ServingStatus>): HealthService {
  const statuses = new Map<string, Status>(
    Object.entries(initial).map(([name, s]) => [name, Status[s]]),
  );
  const watchers = new Map<string, Set<grpc.ServerWritableStream<AnyMessage, AnyMessage>>>();
  const response = (status: Status): AnyMessage => create(HealthCheckResponseSchema, { status });

  const check: grpc.handleUnaryCall<AnyMessage, AnyMessage> = (call, callback) => {
    const name = (call.request as HealthCheckRequest).service;
    const status = statuses.get(name);
    if (status === undefined) {
      callback({ code: 5, details: `unknown service ${JSON.stringify(name)}` });
      return;
    }
    callback(null, response(status));
  };

  const watch: grpc.handleServerStreamingCall<AnyMessage, AnyMessage> = (call) => {
    const name = (call.request as HealthCheckRequest).service;
    const set = watchers.get(name) ?? new Set();
    watchers.set(name, set);
    set.add(call);
    const forget = (): void => {
      set.delete(call);
      if (set.size === 0 && watchers.get(name) === set) watchers.delete(name);
    };
    call.on("cancelled", forget);
    call.on("close", forget);
    call.on("error", forget);
    call.write(response(statuses.get(name) ?? Status.SERVICE_UNKNOWN));
  };

  const list: grpc.handleUnaryCall<AnyMessage, AnyMessage> = (_call, callback) => {
    const all: Record<string, ReturnType<typeof response>> = {};
    for (const [name, status] of statuses) all[name] = response(status);
    callback(null, create(HealthListResponseSchema, { statuses: all as never }));
  };

  return {
    setStatus(service, status) {
      const next = Status[status];
      if (statuses.get(service) === next) return;
      statuses.set(service, next);
      for (const call of watchers.get(service) ?? []) call.write(response(next));
    },
    endWatches() {
      for (const set of watchers.values()) for (const call of set) call.end();
      watchers.clear();
    },
    implementation: { check, watch, list },
  };
}
