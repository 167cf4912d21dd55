/**
 * The gRPC server: every method of the given services through the shared call pipeline, the
 * standard health service and server reflection.
 * @module
 */
import { type DescFile, type DescMessage, type MessageShape, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import { ReflectionService } from "@grpc/reflection";
import { HealthImplementation } from "grpc-health-check";
import { Buffer } from "node:buffer";
import { bearerToken, type TokenVerifier } from "../auth.ts";
import { toServiceError } from "../errors.ts";
import { uuidv7 } from "../ids.ts";
import { contextFromCarrier } from "../tracing.ts";
import type { ServiceBinding } from "./handler.ts";
import { invoke } from "./pipeline.ts";
import { serviceDefinition } from "./grpc_codec.ts";

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

function filesOf(bindings: ServiceBinding[]): DescFile[] {
  const seen = new Map<string, DescFile>();
  const visit = (f: DescFile): void => {
    if (seen.has(f.name)) return;
    for (const d of f.dependencies) visit(d);
    seen.set(f.name, f);
  };
  for (const b of bindings) visit(b.desc.file);
  return [...seen.values()];
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
  const statuses: Record<string, "SERVING" | "NOT_SERVING"> = { "": "SERVING" };
  for (const b of opts.bindings) statuses[b.desc.typeName] = "SERVING";
  const health = new HealthImplementation(statuses);
  health.addToServer(server);
  if (opts.reflection ?? true) {
    const files = filesOf(opts.bindings).map((f) =>
      Buffer.from(toBinary(FileDescriptorProtoSchema, f.proto))
    );
    const pkg: Record<string, { fileDescriptorProtos: Buffer[] }> = {};
    for (const b of opts.bindings) pkg[b.desc.typeName] = { fileDescriptorProtos: files };
    new ReflectionService(pkg as never).addToServer(server);
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
