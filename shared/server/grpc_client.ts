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
import * as grpc from "@grpc/grpc-js";
import { Code, ServiceError } from "../errors.ts";
import { currentTraceparent, SpanKind, withSpan } from "../tracing.ts";
import { deserializer, grpcPath, serializer } from "./grpc_codec.ts";

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

/** Creates a client for the service at `host:port` (plaintext; the internal network only). */
export function grpcClient<S extends DescService>(
  desc: S,
  address: string,
  clientOpts: ClientOptions = {},
): ServiceClient<S> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
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
