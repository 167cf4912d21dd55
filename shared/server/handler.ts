/**
 * What a service implements: one handler per RPC, served unchanged over gRPC and REST.
 * @module
 */
import type {
  DescMessage,
  DescMethodUnary,
  DescService,
  MessageInitShape,
  MessageShape,
} from "@bufbuild/protobuf";
import type { Principal } from "../auth.ts";

/** What a handler knows about its call. */
export interface CallContext {
  /** The verified caller, or null for an anonymous call. */
  readonly principal: Principal | null;
  /** The request id (from the edge's `x-request-id`, or a new one). */
  readonly requestId: string;
  /** How the call arrived. */
  readonly transport: "grpc" | "http";
}

/** A unary RPC handler: the request, validated, in; the response (or a ServiceError thrown) out. */
export type UnaryHandler<I extends DescMessage, O extends DescMessage> = (
  request: MessageShape<I>,
  ctx: CallContext,
) => Promise<MessageInitShape<O>>;

/** The handlers of every RPC of a service, keyed by the method's local name (`placeOrder`). */
export type ServiceImpl<S extends DescService> = {
  [K in keyof S["method"]]: S["method"][K] extends DescMethodUnary<infer I, infer O>
    ? UnaryHandler<I, O>
    : never;
};

/** A service descriptor with its handlers. */
export interface ServiceBinding {
  readonly desc: DescService;
  readonly impl: Record<string, UnaryHandler<DescMessage, DescMessage>>;
  /**
   * Public reads that shared caches (the edge, a CDN) may keep, by method local name → seconds.
   * REST answers such a GET made without credentials with `Cache-Control: public, max-age=N`.
   */
  readonly publicCacheSeconds?: Readonly<Record<string, number>>;
}

/** Options of {@linkcode bindService}. */
export interface BindOptions<S extends DescService> {
  /** Public reads shared caches may keep for a few seconds (see ServiceBinding). */
  publicCacheSeconds?: { [K in keyof S["method"]]?: number };
}

/**
 * Pairs a generated service descriptor with its handlers (type-checked against the descriptor).
 *
 * @example
 * ```ts
 * const binding = bindService(order.OrderService, { placeOrder: async (req, ctx) => ({ … }), … });
 * ```
 */
export function bindService<S extends DescService>(
  desc: S,
  impl: ServiceImpl<S>,
  opts: BindOptions<S> = {},
): ServiceBinding {
  for (const m of desc.methods) {
    if (m.methodKind !== "unary") throw new Error(`${desc.typeName}.${m.name}: only unary RPCs`);
    if (typeof (impl as Record<string, unknown>)[m.localName] !== "function") {
      throw new Error(`${desc.typeName}.${m.name} has no handler`);
    }
  }
  return {
    desc,
    impl: impl as unknown as ServiceBinding["impl"],
    ...(opts.publicCacheSeconds
      ? { publicCacheSeconds: opts.publicCacheSeconds as Record<string, number> }
      : {}),
  };
}
