/**
 * grpc-js method definitions built straight from protobuf-es descriptors (no proto-loader).
 * @module
 */
import {
  type DescMessage,
  type DescMethod,
  type DescService,
  fromBinary,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import type * as grpc from "@grpc/grpc-js";
import { Buffer } from "node:buffer";

/** The gRPC path of a method: `/<package.Service>/<Method>`. */
export function grpcPath(service: DescService, method: DescMethod): string {
  return `/${service.typeName}/${method.name}`;
}

/** Serialises a message for grpc-js. */
export function serializer(desc: DescMessage): (m: MessageShape<DescMessage>) => Buffer {
  return (m) => {
    const u8 = toBinary(desc, m);
    return Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
  };
}

/** Deserialises a message for grpc-js. */
export function deserializer(desc: DescMessage): (b: Buffer) => MessageShape<DescMessage> {
  return (b) => fromBinary(desc, b);
}

/** A grpc-js service definition for a protobuf-es service descriptor. */
export function serviceDefinition(
  service: DescService,
): Record<string, grpc.MethodDefinition<MessageShape<DescMessage>, MessageShape<DescMessage>>> {
  const def: Record<
    string,
    grpc.MethodDefinition<MessageShape<DescMessage>, MessageShape<DescMessage>>
  > = {};
  for (const m of service.methods) {
    def[m.localName] = {
      path: grpcPath(service, m),
      requestStream: m.methodKind === "client_streaming" || m.methodKind === "bidi_streaming",
      responseStream: m.methodKind === "server_streaming" || m.methodKind === "bidi_streaming",
      requestSerialize: serializer(m.input),
      requestDeserialize: deserializer(m.input),
      responseSerialize: serializer(m.output),
      responseDeserialize: deserializer(m.output),
    };
  }
  return def;
}
