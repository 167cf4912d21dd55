/**
 * gRPC server reflection (`grpc.reflection.v1` and the older `v1alpha` that grpcurl and most tools
 * still try first), answered from the protobuf-es descriptors the server already holds.
 *
 * Why not `@grpc/reflection`: it and `grpc-health-check` load protobufjs and proto-loader, parse
 * their own .proto files at start and keep a second copy of every descriptor: about 2 MiB of live
 * heap and 5 MiB of resident memory in each of the seven services, for two services answered a
 * few times a day. The behaviour is the one gRPC documents (and grpc-go implements): a stream of
 * requests, one response each, echoing the request; files come with their dependencies, the
 * requested file first.
 * @module
 */
import {
  create,
  type DescExtension,
  type DescFile,
  type DescMessage,
  type DescService,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type * as grpc from "@grpc/grpc-js";
import {
  ServerReflection,
  type ServerReflectionRequest,
  type ServerReflectionResponse,
} from "../gen/grpc/reflection/v1/reflection_pb.ts";
import { ServerReflection as ServerReflectionV1Alpha } from "../gen/grpc/reflection/v1alpha/reflection_pb.ts";

/** One of the two versions of the reflection service. */
export type ReflectionVersion = typeof ServerReflection | typeof ServerReflectionV1Alpha;

/** The two reflection services, the current one first; both are served. */
export const REFLECTION_SERVICES: readonly ReflectionVersion[] = [
  ServerReflection,
  ServerReflectionV1Alpha,
];

/** gRPC's NOT_FOUND, the code of every "no such thing" answer. */
const NOT_FOUND = 5;
/** gRPC's INVALID_ARGUMENT, for a request that names no question. */
const INVALID_ARGUMENT = 3;

/** What reflection can answer: the files behind the served services, indexed. */
export interface ReflectionIndex {
  /** The fully-qualified names of the served services, in the order given. */
  readonly services: readonly string[];
  /** Answers one request (without the echo of the request, which the stream adds). */
  answer(
    req: ServerReflectionRequest,
  ): Omit<ServerReflectionResponse, "$typeName" | "originalRequest" | "validHost">;
}

function allMessages(messages: readonly DescMessage[], out: DescMessage[] = []): DescMessage[] {
  for (const m of messages) {
    out.push(m);
    allMessages(m.nestedMessages, out);
  }
  return out;
}

/** A file and its dependencies (each once), the file first, as reflection sends them. */
function withDependencies(file: DescFile): DescFile[] {
  const seen = new Map<string, DescFile>();
  const visit = (f: DescFile): void => {
    if (seen.has(f.name)) return;
    seen.set(f.name, f);
    for (const d of f.dependencies) visit(d);
  };
  visit(file);
  return [...seen.values()];
}

/**
 * Indexes the files of the given services (and their dependencies) by file name, by every symbol
 * they declare (services, methods, messages, enums, extensions, nested ones too) and by extension.
 *
 * @example
 * ```ts
 * const index = reflectionIndex([UserService, Health]);
 * index.answer(create(ServerReflectionRequestSchema, {
 *   messageRequest: { case: "listServices", value: "" },
 * }));
 * ```
 */
export function reflectionIndex(services: readonly DescService[]): ReflectionIndex {
  const byName = new Map<string, DescFile>();
  const bySymbol = new Map<string, DescFile>();
  const extensions = new Map<string, Map<number, DescFile>>();
  const encoded = new Map<string, Uint8Array>();
  const addExtension = (ext: DescExtension, file: DescFile): void => {
    const of = extensions.get(ext.extendee.typeName) ?? new Map<number, DescFile>();
    of.set(ext.number, file);
    extensions.set(ext.extendee.typeName, of);
    bySymbol.set(ext.typeName, file);
  };
  for (const service of services) {
    for (const file of withDependencies(service.file)) {
      // DescFile.name drops ".proto"; reflection clients ask for the file's real name.
      if (byName.has(file.proto.name)) continue;
      byName.set(file.proto.name, file);
      for (const s of file.services) {
        bySymbol.set(s.typeName, file);
        for (const m of s.methods) bySymbol.set(`${s.typeName}.${m.name}`, file);
      }
      for (const e of file.enums) bySymbol.set(e.typeName, file);
      for (const x of file.extensions) addExtension(x, file);
      for (const m of allMessages(file.messages)) {
        bySymbol.set(m.typeName, file);
        for (const e of m.nestedEnums) bySymbol.set(e.typeName, file);
        for (const x of m.nestedExtensions) addExtension(x, file);
      }
    }
  }
  const bytesOf = (f: DescFile): Uint8Array => {
    let b = encoded.get(f.name);
    if (b === undefined) {
      b = toBinary(FileDescriptorProtoSchema, f.proto);
      encoded.set(f.name, b);
    }
    return b;
  };
  const files = (file: DescFile | undefined, what: string): ReturnType<ReflectionIndex["answer"]> =>
    file === undefined ? errorResponse(NOT_FOUND, `${what} not found`) : {
      messageResponse: {
        case: "fileDescriptorResponse",
        value: { fileDescriptorProto: withDependencies(file).map(bytesOf) } as never,
      },
    };
  const names = services.map((s) => s.typeName);
  return {
    services: names,
    answer(req) {
      const q = req.messageRequest;
      switch (q.case) {
        case "listServices":
          return {
            messageResponse: {
              case: "listServicesResponse",
              value: { service: names.map((name) => ({ name })) } as never,
            },
          };
        case "fileByFilename":
          return files(byName.get(q.value), `file ${q.value}`);
        case "fileContainingSymbol":
          return files(bySymbol.get(q.value), `symbol ${q.value}`);
        case "fileContainingExtension": {
          const { containingType, extensionNumber } = q.value;
          return files(
            extensions.get(containingType)?.get(extensionNumber),
            `extension ${extensionNumber} of ${containingType}`,
          );
        }
        case "allExtensionNumbersOfType": {
          if (!bySymbol.has(q.value)) return errorResponse(NOT_FOUND, `type ${q.value} not found`);
          return {
            messageResponse: {
              case: "allExtensionNumbersResponse",
              value: {
                baseTypeName: q.value,
                extensionNumber: [...(extensions.get(q.value)?.keys() ?? [])].sort((a, b) => a - b),
              } as never,
            },
          };
        }
        default:
          return errorResponse(INVALID_ARGUMENT, "the request asks nothing");
      }
    },
  };
}

function errorResponse(code: number, message: string): ReturnType<ReflectionIndex["answer"]> {
  return {
    messageResponse: {
      case: "errorResponse",
      value: { errorCode: code, errorMessage: message } as never,
    },
  };
}

type AnyMessage = MessageShape<DescMessage>;

/**
 * The grpc-js handler of a reflection service's one method (a bidirectional stream): every request
 * answered in order, each answer echoing its request and host; the stream ends when the client's
 * does. `version` is one of {@linkcode REFLECTION_SERVICES}: it only chooses the response's schema
 * (the two versions are the same messages under two package names).
 */
export function reflectionHandler(
  index: ReflectionIndex,
  version: ReflectionVersion,
): grpc.handleBidiStreamingCall<AnyMessage, AnyMessage> {
  const output = version.method.serverReflectionInfo.output;
  return (call) => {
    call.on("data", (raw: AnyMessage) => {
      const req = raw as unknown as ServerReflectionRequest;
      const answer = index.answer(req);
      call.write(create(output, {
        validHost: req.host,
        // The v1 request as is, or (v1alpha) copied field by field into that version's message.
        originalRequest: req as never,
        messageResponse: answer.messageResponse as never,
      }));
    });
    call.on("end", () => call.end());
    call.on("error", () => {});
  };
}
