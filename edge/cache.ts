/**
 * A small shared cache for public reads, as a CDN or Envoy's cache filter would keep: only GET
 * requests without credentials, only 200 answers the service marked `Cache-Control: public,
 * max-age=N`, kept N seconds at most. Concurrent misses for one URL share one upstream request.
 * A catalogue read a thousand times a second then costs the service one query a second.
 * @module
 */

/** Options for {@linkcode responseCache}. */
export interface ResponseCacheOptions {
  /** Entries kept at most (least recently stored dropped first). @default 1000 */
  maxEntries?: number;
  /** Largest body cached (bytes). @default 256 KiB */
  maxBodyBytes?: number;
  /** Longest time anything is kept, whatever the service says (s). @default 60 */
  maxAgeSeconds?: number;
  /** The clock (ms). @default Date.now */
  now?: () => number;
}

interface Entry {
  status: number;
  headers: Array<[string, string]>;
  body: Uint8Array<ArrayBuffer>;
  storedAt: number;
  expiresAt: number;
}

/** The cache in front of the proxy. */
export interface ResponseCache {
  /**
   * Answers from the cache when the request may be served from it, else calls `fetchUpstream`
   * (once for concurrent identical misses) and stores a cacheable answer.
   */
  serve(req: Request, key: string, fetchUpstream: () => Promise<Response>): Promise<Response>;
  /** Entries currently held. */
  size(): number;
}

/** The max-age of a `public` Cache-Control value, or 0 when it must not be shared. */
export function sharedMaxAge(cacheControl: string | null): number {
  if (!cacheControl) return 0;
  const directives = cacheControl.toLowerCase().split(",").map((d) => d.trim());
  if (!directives.includes("public")) return 0;
  if (directives.some((d) => d === "no-store" || d === "private" || d === "no-cache")) return 0;
  const maxAge = directives.find((d) => d.startsWith("s-maxage=")) ??
    directives.find((d) => d.startsWith("max-age="));
  const n = maxAge ? Number(maxAge.split("=")[1]) : 0;
  return Number.isFinite(n) && n > 0 ? n : 0;
}

function fromEntry(e: Entry, now: number): Response {
  const headers = new Headers(e.headers);
  headers.set("age", String(Math.floor((now - e.storedAt) / 1000)));
  headers.set("x-cache", "HIT");
  return new Response(e.body, { status: e.status, headers });
}

/** A response cache for public GETs. */
export function responseCache(opts: ResponseCacheOptions = {}): ResponseCache {
  const maxEntries = opts.maxEntries ?? 1000;
  const maxBody = opts.maxBodyBytes ?? 256 * 1024;
  const maxAgeCap = opts.maxAgeSeconds ?? 60;
  const now = opts.now ?? Date.now;
  const entries = new Map<string, Entry>();
  const inFlight = new Map<string, Promise<Entry | Response>>();

  async function fill(
    key: string,
    fetchUpstream: () => Promise<Response>,
  ): Promise<Entry | Response> {
    const res = await fetchUpstream();
    const maxAge = Math.min(sharedMaxAge(res.headers.get("cache-control")), maxAgeCap);
    const length = Number(res.headers.get("content-length") ?? "0");
    // An answer that varies by request headers (e.g. its content coding) is not one answer for
    // everybody: this cache keys by URL only, so it keeps none of them.
    if (res.status !== 200 || maxAge <= 0 || length > maxBody || res.headers.has("vary")) {
      return res;
    }
    const body = new Uint8Array(await res.arrayBuffer());
    if (body.byteLength > maxBody) return new Response(body, res);
    const t = now();
    const entry: Entry = {
      status: res.status,
      headers: [...res.headers].filter(([k]) => k !== "x-request-id"),
      body,
      storedAt: t,
      expiresAt: t + maxAge * 1000,
    };
    if (entries.size >= maxEntries) {
      const oldest = entries.keys().next().value;
      if (oldest !== undefined) entries.delete(oldest);
    }
    entries.delete(key);
    entries.set(key, entry);
    return entry;
  }

  return {
    async serve(req, key, fetchUpstream) {
      if (req.method !== "GET" || req.headers.has("authorization") || req.headers.has("cookie")) {
        return fetchUpstream();
      }
      const hit = entries.get(key);
      if (hit) {
        if (now() < hit.expiresAt) return fromEntry(hit, now());
        entries.delete(key);
      }
      let pending = inFlight.get(key);
      const leader = pending === undefined;
      if (!pending) {
        pending = fill(key, fetchUpstream).finally(() => inFlight.delete(key));
        inFlight.set(key, pending);
      }
      const got = await pending;
      if (got instanceof Response) {
        // Not cacheable: the leader has the answer; a follower asks the upstream itself.
        return leader ? got : fetchUpstream();
      }
      const res = fromEntry(got, now());
      res.headers.set("x-cache", leader ? "MISS" : "HIT");
      return res;
    },
    size: () => entries.size,
  };
}
