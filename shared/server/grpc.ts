/**
 * The gRPC server: every method of the given services through the shared call pipeline, the
 * standard health service and server reflection.
 * @module
 */
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { bearerToken, type TokenVerifier } from "../auth.ts";
import { toServiceError } from "../errors.ts";
import { uuidv7 } from "../ids.ts";
import { contextFromCarrier } from "../tracing.ts";
import type { ServiceBinding } from "./handler.ts";
import { invoke } from "./pipeline.ts";
import { serviceDefinition } from "./grpc_codec.ts";
import { Health, healthService, type ServingStatus } from "./grpc_health.ts";
import { REFLECTION_SERVICES, reflectionHandler, reflectionIndex } from "./grpc_reflection.ts";

/** Options for {@linkcode startGrpcServer}. */
export interface GrpcOptions {
  bindings: ServiceBinding[];
  verifier?: TokenVerifier;
  host?: string;
  port: number;
  /** Serve gRPC server reflection. @default true */
  reflection?: boolean;
}

/** A running gRPC server. */
export interface GrpcServer {
  readonly port: number;
  /** Sets the health status of the whole server ("" service) and of each service. */
  setServing(serving: boolean): void;
  /** Stops accepting calls and waits for in-flight ones (forcing after graceMs). */
  close(graceMs?: number): Promise<void>;
}

function metadataValue(md: grpc.Metadata, key: string): string | undefined {
  const v = md.get(key)[0];
  return v === undefined ? undefined : String(v);
}

/** Starts a gRPC server and resolves once it listens. */
export async function startGrpcServer(opts: GrpcOptions): Promise<GrpcServer> {
  const server = new grpc.Server({ "grpc.max_receive_message_length": 4 * 1024 * 1024 });
  for (const binding of opts.bindings) {
    const impl: grpc.UntypedServiceImplementation = {};
    for (const method of binding.desc.methods) {
      impl[method.localName] = (
        call: grpc.ServerUnaryCall<MessageShape<DescMessage>, MessageShape<DescMessage>>,
        callback: grpc.sendUnaryData<MessageShape<DescMessage>>,
      ) => {
        const md = call.metadata;
        let token: string | undefined;
        try {
          token = bearerToken(metadataValue(md, "authorization"));
        } catch (e) {
          const se = toServiceError(e);
          callback({ code: se.code, details: se.message });
          return;
        }
        invoke({
          binding,
          method,
          request: call.request,
          token,
          requestId: metadataValue(md, "x-request-id") ?? uuidv7(),
          transport: "grpc",
          parent: contextFromCarrier({
            traceparent: metadataValue(md, "traceparent"),
            tracestate: metadataValue(md, "tracestate"),
          }),
        }, opts.verifier).then(
          (res) => callback(null, res),
          (err) => {
            const se = toServiceError(err);
            const metadata = new grpc.Metadata();
            if (se.retryAfterSeconds !== undefined) {
              metadata.set("retry-after", String(se.retryAfterSeconds));
            }
            callback({ code: se.code, details: se.message, metadata });
          },
        );
      };
    }
    server.addService(serviceDefinition(binding.desc), impl);
  }
  const statuses: Record<string, ServingStatus> = { "": "SERVING" };
  for (const b of opts.bindings) statuses[b.desc.typeName] = "SERVING";
  const health = healthService(statuses);
  server.addService(serviceDefinition(Health), health.implementation);
  if (opts.reflection ?? true) {
    const index = reflectionIndex([
      ...opts.bindings.map((b) => b.desc),
      Health,
      ...REFLECTION_SERVICES,
    ]);
    for (const version of REFLECTION_SERVICES) {
      server.addService(serviceDefinition(version), {
        serverReflectionInfo: reflectionHandler(index, version),
      });
    }
  }
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(
      `${opts.host ?? "127.0.0.1"}:${opts.port}`,
      grpc.ServerCredentials.createInsecure(),
      (err, p) => (err ? reject(err) : resolve(p)),
    );
  });
  return {
    port,
    setServing(serving) {
      for (const name of Object.keys(statuses)) {
        health.setStatus(name, serving ? "SERVING" : "NOT_SERVING");
      }
    },
    close(graceMs = 5000) {
      // Health watches never end by themselves: end them (OK), or the graceful shutdown below
      // would wait for them until it forces.
      health.endWatches();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}
