/**
 * The browser's files (`web/static/`): read once, named by a hash of their content
 * (`/static/<hash>/app.js`) so that browsers may keep them for a year, compressed once (Brotli,
 * gzip) and served in the coding the browser accepts. Pages link them through
 * {@linkcode Assets.url}.
 * @module
 */
import { brotli, type Coding, gzip, MIN_COMPRESSED_BYTES, negotiate } from "./compress.ts";

/** Content types of the files we ship. */
const TYPES: Readonly<Record<string, string>> = {
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".svg": "image/svg+xml",
  ".ico": "image/x-icon",
};

/** One file. */
interface Asset {
  body: Uint8Array<ArrayBuffer>;
  /** The body in each coding worth having. */
  coded: Partial<Record<Coding, Uint8Array<ArrayBuffer>>>;
  type: string;
  hash: string;
}

/** The static files. */
export interface Assets {
  /** The versioned URL of a file (`app.css` → `/static/3f2a…/app.css`); throws for an unknown one. */
  url(name: string): string;
  /** Answers `GET /static/<hash>/<name>` (given the request's Accept-Encoding); else undefined. */
  serve(path: string, acceptEncoding?: string | null): Response | undefined;
}

async function sha256Hex(data: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", data);
  return Array.from(new Uint8Array(digest).slice(0, 6), (b) => b.toString(16).padStart(2, "0"))
    .join("");
}

/** Loads every file of a folder (default: `web/static/`). */
export async function loadAssets(
  dir: URL = new URL("./static/", import.meta.url),
): Promise<Assets> {
  const files = new Map<string, Asset>();
  for await (const e of Deno.readDir(dir)) {
    if (!e.isFile) continue;
    const ext = e.name.slice(e.name.lastIndexOf("."));
    const type = TYPES[ext];
    if (!type) continue;
    const body = await Deno.readFile(new URL(e.name, dir));
    const coded = body.byteLength < MIN_COMPRESSED_BYTES
      ? {}
      : { br: brotli(body), gzip: gzip(body) };
    files.set(e.name, { body, coded, type, hash: await sha256Hex(body) });
  }
  return {
    url(name) {
      const a = files.get(name);
      if (!a) throw new Error(`no static file ${name}`);
      return `/static/${a.hash}/${name}`;
    },
    serve(path, acceptEncoding) {
      const m = /^\/static\/([0-9a-f]+)\/([\w.-]+)$/.exec(path);
      const a = m && files.get(m[2]!);
      if (!a) return undefined;
      const current = a.hash === m![1];
      const coding = negotiate(acceptEncoding, Object.keys(a.coded) as Coding[]);
      return new Response(coding ? a.coded[coding]! : a.body, {
        headers: {
          "content-type": a.type,
          ...(coding ? { "content-encoding": coding } : {}),
          ...(Object.keys(a.coded).length ? { vary: "accept-encoding" } : {}),
          // A stale hash (a page rendered before a deploy) still gets today's file, briefly kept.
          "cache-control": current ? "public, max-age=31536000, immutable" : "public, max-age=60",
          "x-content-type-options": "nosniff",
        },
      });
    },
  };
}
