/**
 * A typed gRPC client for a protobuf-es service descriptor, for service-to-service calls. It
 * forwards the active trace context and maps failures to ServiceError with the same code.
 * @module
 */
import type {
  DescMessage,
  DescMethodUnary,
  DescService,
  MessageInitShape,
  MessageShape,
} from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import { isIPv4, isIPv6 } from "node:net";
import { Code, ServiceError } from "../errors.ts";
import { currentTraceparent, SpanKind, withSpan } from "../tracing.ts";
import { deserializer, grpcPath, serializer } from "./grpc_codec.ts";
import { routesOfService } from "./routes.ts";

/** Per-call options. */
export interface CallOptions {
  /** Deadline from now. @default 5000 */
  timeoutMs?: number;
  /** Sent as `authorization: Bearer <token>`. */
  token?: string;
}

/** A client with one async function per unary RPC. */
export type ServiceClient<S extends DescService> =
  & {
    [K in keyof S["method"]]: S["method"][K] extends DescMethodUnary<infer I, infer O>
      ? (request: MessageInitShape<I>, opts?: CallOptions) => Promise<MessageShape<O>>
      : never;
  }
  & { close(): void };

/** Options of {@linkcode grpcClient}. */
export interface ClientOptions {
  /** The deadline of calls that set none. @default 5000 */
  timeoutMs?: number;
}

/**
 * The grpc-js channel target of an address: `host:port` as it is, and a comma-separated list of
 * replicas (`127.0.0.1:9196,127.0.0.1:9246`) as an `ipv4:` (or `ipv6:`) target, which grpc-js
 * resolves to every address at once.
 *
 * @example
 * ```ts
 * grpcTarget("127.0.0.1:9196,127.0.0.1:9246"); // "ipv4:127.0.0.1:9196,127.0.0.1:9246"
 * ```
 */
export function grpcTarget(address: string): string {
  const list = address.split(",").map((a) => a.trim()).filter(Boolean);
  if (list.length < 2) return list[0] ?? address;
  const hostOf = (a: string) => a.startsWith("[") ? a.slice(1, a.indexOf("]")) : a.split(":")[0]!;
  if (list.every((a) => isIPv4(hostOf(a)))) return `ipv4:${list.join(",")}`;
  if (list.every((a) => isIPv6(hostOf(a)))) return `ipv6:${list.join(",")}`;
  throw new Error(
    `a list of gRPC addresses must be IP addresses (${address}); for host names use one name ` +
      "that resolves to every replica (e.g. a headless Kubernetes service)",
  );
}

/** Attempts of a read whose replica failed (the first included). */
const READ_ATTEMPTS = 3;

/**
 * The channel options of a client of `desc`: round robin over every address the target resolves
 * to (the grpc-js default, pick_first, would send every call to the first replica); and for its
 * reads (bound to HTTP GET, or marked `idempotency_level` NO_SIDE_EFFECTS or IDEMPOTENT) up to
 * {@linkcode READ_ATTEMPTS} attempts on UNAVAILABLE or INTERNAL, each picked afresh: a call that
 * round robin sent down a replica's connection just before the replica died fails so, and the
 * retry goes to the next. Writes are not retried: such a failure does not prove the server did not
 * apply one.
 *
 * @example
 * ```ts
 * JSON.parse(channelOptions(user.UserService)["grpc.service_config"] as string).methodConfig[0].name;
 * // [{ service: "stocklet.user.v1.UserService", method: "ServiceInfo" }, ...]
 * ```
 */
export function channelOptions(desc: DescService): grpc.ChannelOptions {
  const gets = new Set(routesOfService(desc).filter((r) => r.verb === "GET").map((r) => r.method));
  const reads = desc.methods
    .filter((m) =>
      gets.has(m) || m.idempotency !== MethodOptions_IdempotencyLevel.IDEMPOTENCY_UNKNOWN
    )
    .map((m) => ({ service: desc.typeName, method: m.name }));
  const retryPolicy = {
    maxAttempts: READ_ATTEMPTS,
    initialBackoff: "0.02s",
    maxBackoff: "0.2s",
    backoffMultiplier: 2,
    // A call written to a connection its replica just closed fails INTERNAL in grpc-js ("Received
    // RST_STREAM with code 2 triggered by internal client error: This socket has been ended by
    // the other party"), or UNAVAILABLE; a read is safe to send again either way.
    retryableStatusCodes: ["UNAVAILABLE", "INTERNAL"],
  };
  return {
    "grpc.service_config": JSON.stringify({
      loadBalancingConfig: [{ round_robin: {} }],
      ...(reads.length ? { methodConfig: [{ name: reads, retryPolicy }] } : {}),
    }),
  };
}

/**
 * Creates a client for the service at `host:port`, or at each of a comma-separated list of replicas
 * (plaintext; the internal network only). Calls go round robin over every address the target
 * resolves to; reads are retried when a replica fails (see {@linkcode channelOptions}).
 */
export function grpcClient<S extends DescService>(
  desc: S,
  address: string,
  clientOpts: ClientOptions = {},
): ServiceClient<S> {
  const client = new grpc.Client(
    grpcTarget(address),
    grpc.credentials.createInsecure(),
    channelOptions(desc),
  );
  const out: Record<string, unknown> = { close: () => client.close() };
  for (const method of desc.methods) {
    const ser = serializer(method.input);
    const de = deserializer(method.output);
    out[method.localName] = (init: MessageInitShape<DescMessage>, opts: CallOptions = {}) =>
      withSpan(`${desc.typeName}/${method.name}`, {
        kind: SpanKind.CLIENT,
        attributes: {
          "rpc.system": "grpc",
          "rpc.service": desc.typeName,
          "rpc.method": method.name,
        },
      }, () => {
        const md = new grpc.Metadata();
        const tp = currentTraceparent();
        if (tp) md.set("traceparent", tp);
        if (opts.token) md.set("authorization", `Bearer ${opts.token}`);
        const req = create(method.input, init);
        return new Promise((resolve, reject) => {
          client.makeUnaryRequest(
            grpcPath(desc, method),
            ser,
            de,
            req,
            md,
            { deadline: Date.now() + (opts.timeoutMs ?? clientOpts.timeoutMs ?? 5000) },
            (err, res) => {
              if (err) {
                reject(
                  new ServiceError(
                    (err.code ?? Code.UNKNOWN) as Code,
                    err.details || err.message,
                    [],
                    err,
                  ),
                );
              } else resolve(res!);
            },
          );
        });
      });
  }
  return out as ServiceClient<S>;
}
