/**
 * Proto comments by element full name, read from descriptors that carry source info (a
 * `buf build` image). The generated TypeScript descriptors drop source info, so `deno task gen`
 * builds an image and hands this map to the OpenAPI generator for its descriptions.
 * @module
 */
import type {
  DescriptorProto,
  EnumDescriptorProto,
  FileDescriptorProto,
} from "@bufbuild/protobuf/wkt";

// Field numbers of the descriptor messages, as used in SourceCodeInfo paths.
const FILE_MESSAGE = 4;
const FILE_ENUM = 5;
const FILE_SERVICE = 6;
const MESSAGE_FIELD = 2;
const MESSAGE_NESTED = 3;
const MESSAGE_ENUM = 4;
const ENUM_VALUE = 2;
const SERVICE_METHOD = 2;

function clean(comment: string): string {
  return comment.split("\n").map((l) => l.replace(/^ /, "").trimEnd()).join("\n").trim();
}

/**
 * The leading comments of every service, method, message, field, enum and enum value of the
 * files, keyed by full name (`stocklet.order.v1.Order`, `stocklet.order.v1.Order.items`,
 * `stocklet.order.v1.OrderService.PlaceOrder`).
 *
 * @param files File descriptors with `sourceCodeInfo` (e.g. from `buf build`).
 * @returns Comment text by full name; elements without a comment are absent.
 * @example
 * ```ts
 * const comments = commentsOf(fileDescriptorSet.file);
 * comments.get("stocklet.order.v1.OrderService.PlaceOrder");
 * ```
 */
export function commentsOf(files: readonly FileDescriptorProto[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const file of files) {
    const byPath = new Map<string, string>();
    for (const loc of file.sourceCodeInfo?.location ?? []) {
      const text = clean(loc.leadingComments ?? "");
      if (text) byPath.set(loc.path.join("."), text);
    }
    if (!byPath.size) continue;
    const note = (name: string, path: number[]): void => {
      const text = byPath.get(path.join("."));
      if (text) out.set(name, text);
    };
    const pkg = file.package ? `${file.package}.` : "";
    const enumOf = (e: EnumDescriptorProto, scope: string, path: number[]): void => {
      const name = `${scope}${e.name}`;
      note(name, path);
      e.value.forEach((v, i) => note(`${name}.${v.name}`, [...path, ENUM_VALUE, i]));
    };
    const messageOf = (m: DescriptorProto, scope: string, path: number[]): void => {
      const name = `${scope}${m.name}`;
      note(name, path);
      m.field.forEach((f, i) => note(`${name}.${f.name}`, [...path, MESSAGE_FIELD, i]));
      m.nestedType.forEach((n, i) => messageOf(n, `${name}.`, [...path, MESSAGE_NESTED, i]));
      m.enumType.forEach((e, i) => enumOf(e, `${name}.`, [...path, MESSAGE_ENUM, i]));
    };
    file.messageType.forEach((m, i) => messageOf(m, pkg, [FILE_MESSAGE, i]));
    file.enumType.forEach((e, i) => enumOf(e, pkg, [FILE_ENUM, i]));
    file.service.forEach((s, i) => {
      const name = `${pkg}${s.name}`;
      note(name, [FILE_SERVICE, i]);
      s.method.forEach((m, j) => note(`${name}.${m.name}`, [FILE_SERVICE, i, SERVICE_METHOD, j]));
    });
  }
  return out;
}
