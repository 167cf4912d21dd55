/**
 * The one call path both transports share: authenticate, validate, run the handler, shape the
 * response, and turn failures into client-safe errors (internal causes are logged with the trace id).
 * @module
 */
import { create, type DescMessage, type DescMethod, type MessageShape } from "@bufbuild/protobuf";
import type { Context } from "@opentelemetry/api";
import type { Principal, TokenVerifier } from "../auth.ts";
import { Code, ServiceError, toServiceError } from "../errors.ts";
import { getLog } from "../logging.ts";
import { SpanKind, withSpan } from "../tracing.ts";
import { validateRequest } from "../validation.ts";
import { recordRpc } from "../metrics/rpc.ts";
import type { CallContext, ServiceBinding } from "./handler.ts";

const log = getLog("rpc");

/** One incoming call, as a transport sees it. */
export interface IncomingCall {
  binding: ServiceBinding;
  method: DescMethod;
  request: MessageShape<DescMessage>;
  /** The bearer token, if the call carried one. */
  token: string | undefined;
  requestId: string;
  transport: "grpc" | "http";
  /** The remote parent for gRPC (HTTP spans are already active through Deno.serve). */
  parent?: Context;
}

/** Runs a call through auth, validation and the handler; resolves to the response or throws a ServiceError. */
export function invoke(
  call: IncomingCall,
  verifier: TokenVerifier | undefined,
): Promise<MessageShape<DescMessage>> {
  const { binding, method } = call;
  const rpc = `${binding.desc.typeName}/${method.name}`;
  const t0 = performance.now();
  return withSpan(rpc, {
    kind: call.transport === "grpc" ? SpanKind.SERVER : SpanKind.INTERNAL,
    attributes: {
      "rpc.system": call.transport === "grpc" ? "grpc" : "http",
      "rpc.service": binding.desc.typeName,
      "rpc.method": method.name,
      "stocklet.request_id": call.requestId,
    },
    ...(call.parent ? { parent: call.parent } : {}),
  }, async (span) => {
    try {
      let principal: Principal | null = null;
      if (call.token !== undefined) {
        if (!verifier) throw new ServiceError(Code.UNAUTHENTICATED, "this service takes no tokens");
        principal = await verifier.verify(call.token);
        span.setAttribute("enduser.id", principal.userId);
      }
      validateRequest(method.input, call.request);
      const ctx: CallContext = { principal, requestId: call.requestId, transport: call.transport };
      const handler = binding.impl[method.localName]!;
      const result = await handler(call.request, ctx);
      const response = create(method.output, result as never) as MessageShape<DescMessage>;
      recordRpc(call.transport, rpc, Code.OK, (performance.now() - t0) / 1000);
      return response;
    } catch (err) {
      const se = toServiceError(err);
      recordRpc(call.transport, rpc, se.code, (performance.now() - t0) / 1000);
      span.setAttribute("rpc.grpc.status_code", se.code);
      if (se.code === Code.INTERNAL || se.code === Code.UNKNOWN || se.code === Code.DATA_LOSS) {
        log.error("{method} failed: {error}", {
          method: rpc,
          error: err,
          request_id: call.requestId,
        });
      } else {
        log.debug("{method}: {code} {message}", {
          method: method.name,
          code: se.code,
          message: se.message,
        });
      }
      throw se;
    }
  });
}
