/**
 * Compressed answers: Deno.serve sends bodies as they are, so the web front compresses what it
 * serves itself. Static files are compressed once, at start-up, with Brotli at its best; pages
 * with gzip as they are rendered (about 1 ms for a catalogue page, an eighth of its size).
 * @module
 */
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

/** A content coding we produce. */
export type Coding = "br" | "gzip";

/** Bodies smaller than this are sent as they are (compressing them gains nothing). */
export const MIN_COMPRESSED_BYTES = 1024;

/**
 * The best coding a client accepts among those offered, by its `Accept-Encoding` (`q=0` refuses).
 *
 * @example
 * ```ts
 * negotiate("gzip, deflate, br", ["br", "gzip"]); // "br"
 * negotiate("br;q=0, gzip", ["br", "gzip"]); // "gzip"
 * ```
 */
export function negotiate(
  acceptEncoding: string | null | undefined,
  offered: readonly Coding[],
): Coding | undefined {
  const accepted = new Map<string, number>();
  for (const part of (acceptEncoding ?? "").toLowerCase().split(",")) {
    const [name, ...params] = part.trim().split(";");
    if (!name) continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    accepted.set(name, q ? Number(q.slice(2)) : 1);
  }
  const wildcard = accepted.get("*");
  return offered.find((c) => (accepted.get(c) ?? wildcard ?? 0) > 0);
}

/** Brotli at its best (for files compressed once). */
export function brotli(body: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(
    brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
  );
}

/** gzip at its default level (for pages compressed as they go out). */
export function gzip(body: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(gzipSync(body));
}
