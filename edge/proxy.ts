/**
 * Forwarding one request to its upstream: one `fetch` (Deno pools and reuses the connections),
 * the request body read up to the size limit, the response streamed back untouched apart from a
 * few headers (and its content coding: Deno's fetch decodes a compressed body, so the edge
 * compresses it again with gzip for a client that takes it). Failures become clear errors: 413 for a body over the limit, 502 when the
 * upstream refuses or drops the connection, 503 when it cannot be reached, 504 on timeout.
 * @module
 */
import { type Balancer, connectionDropped, connectionRefused } from "@stocklet/shared/balancer";
import { EdgeError } from "./errors.ts";
import { isIdentityHeader, REQUEST_ID_HEADER } from "./policy.ts";

/** Hop-by-hop and connection-level headers that never cross the proxy. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authorization",
  "proxy-authenticate",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "host",
  "content-length",
  "expect",
]);

const TRACE_HEADERS = new Set(["traceparent", "tracestate"]);

/** Response headers that describe the upstream connection, not the response. */
const RESPONSE_HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding"]);

/** How the request is forwarded. */
export interface ForwardOptions {
  /** The upstream URL (base + path + query). */
  url: string;
  /** The service's name, for error messages. */
  service: string;
  /** The upstream timeout (ms). */
  timeoutMs: number;
  /** The request id to send upstream. */
  requestId: string;
  /** The largest body accepted (bytes). */
  bodyLimitBytes: number;
  /**
   * Drop the client's `traceparent`/`tracestate`: set when the runtime traces (OTEL_DENO), since
   * fetch then injects the edge's own span as the parent and a second header would corrupt it.
   */
  dropTraceHeaders: boolean;
  /** The client's address, appended to `x-forwarded-for`. */
  clientIp?: string;
  /** The scheme the client used (`x-forwarded-proto`). @default "http" */
  proto?: string;
  /**
   * The timeout covers only the wait for the response's headers; the body may then stream for as
   * long as it lasts (the web front's live order pages are server-sent event streams).
   * @default false
   */
  streaming?: boolean;
  /** Aborts the request (and a streaming body) early, e.g. when the edge stops. */
  signal?: AbortSignal;
  /** The body, when the edge already read it (to rate-limit a login by its account). */
  body?: { bytes: Uint8Array<ArrayBuffer> | undefined };
}

/**
 * The edge's connections to its upstreams: at most 64 idle per replica, none idle for more than
 * 5 s. Deno's default pool bounds neither, so the connections an overload's onset opens (the order
 * service held about 340 from the edge at twice the bench's peak offered, each with buffers at
 * both ends) stayed open long after the calls that needed them. A burst still opens as many as it
 * needs; past 64, a connection that falls idle is closed (on loopback a new one costs about what a
 * reused one does, measured at 16 and 128 calls at once).
 */
const upstreamPool = Deno.createHttpClient({ poolMaxIdlePerHost: 64, poolIdleTimeout: 5_000 });

/** A header list as fetch takes it (cheaper to build than a Headers object). */
export type HeaderPairs = Array<[string, string]>;

/**
 * The headers sent upstream: the client's, less hop-by-hop and identity headers (and the trace
 * headers when asked), plus `x-request-id`, `x-forwarded-for` and `x-forwarded-proto`.
 * `hasBody` says whether the client declared a body (`content-length` or `transfer-encoding`).
 */
export function upstreamHeaders(
  incoming: Headers,
  opts: Pick<ForwardOptions, "requestId" | "dropTraceHeaders" | "clientIp" | "proto">,
): { headers: HeaderPairs; hasBody: boolean } {
  const out: HeaderPairs = [];
  let hasBody = false;
  let forwardedFor: string | undefined;
  for (const [name, value] of incoming) {
    if (HOP_BY_HOP.has(name)) {
      if (name === "content-length" || name === "transfer-encoding") hasBody = true;
      continue;
    }
    if (name === REQUEST_ID_HEADER || name === "x-forwarded-proto") continue;
    if (name === "x-forwarded-for") {
      forwardedFor = value;
      continue;
    }
    // Underscored names could be read as their dashed twins by some frameworks: drop them all
    // (Envoy: headers_with_underscores_action DROP_HEADER).
    if (name.includes("_") || isIdentityHeader(name)) continue;
    if (opts.dropTraceHeaders && TRACE_HEADERS.has(name)) continue;
    out.push([name, value]);
  }
  out.push([REQUEST_ID_HEADER, opts.requestId], ["x-forwarded-proto", opts.proto ?? "http"]);
  if (opts.clientIp) {
    forwardedFor = forwardedFor ? `${forwardedFor}, ${opts.clientIp}` : opts.clientIp;
  }
  if (forwardedFor) out.push(["x-forwarded-for", forwardedFor]);
  return { headers: out, hasBody };
}

function tooLarge(limit: number): EdgeError {
  return new EdgeError(413, `request body larger than ${limit} bytes`);
}

/**
 * Reads a request body, refusing (413) as soon as it passes the limit, whether or not it declared
 * a `content-length`. Undefined when there is no body.
 */
export async function readBody(
  req: Request,
  limit: number,
): Promise<Uint8Array<ArrayBuffer> | undefined> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) throw tooLarge(limit);
  if (req.body === null) return undefined;
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  if (size === 0) return undefined;
  const body = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    body.set(c, at);
    at += c.byteLength;
  }
  return body;
}

function textOf(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let i = 0; e && i < 4; i++) {
    parts.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(" <- ");
}

/** Turns a failed fetch into the edge's answer. */
export function upstreamError(err: unknown, service: string, timeoutMs: number): EdgeError {
  if (err instanceof DOMException && err.name === "TimeoutError") {
    return new EdgeError(504, `upstream ${service} timed out after ${timeoutMs} ms`, err);
  }
  const text = textOf(err);
  if (/connection refused|os error 111/i.test(text)) {
    return new EdgeError(502, `upstream ${service} refused the connection`, err);
  }
  if (/connection (closed|reset)|broken pipe|incomplete message/i.test(text)) {
    return new EdgeError(502, `upstream ${service} closed the connection`, err);
  }
  return new EdgeError(503, `upstream ${service} is unavailable`, err);
}

const NO_BODY = new Set(["GET", "HEAD", "OPTIONS", "DELETE"]);

/** Methods that may be sent again when a replica dropped them without an answer (RFC 9110 safe). */
const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Forwards a request to one of a service's replicas (round robin), and to the next one when a
 * replica refuses the connection (gone or restarting: the request was never sent, so trying
 * another is safe for any method), or, for a safe method (GET), when it dropped the connection
 * without answering (it died midway: a POST may have been applied, so it is not sent twice).
 * The body is read once, so it can be sent again. Envoy does the same (edge/envoy.ts,
 * `retryPolicyOf`).
 */
export async function forwardBalanced(
  req: Request,
  replicas: Balancer,
  pathAndQuery: string,
  opts: Omit<ForwardOptions, "url">,
): Promise<Response> {
  const body = opts.body ??
    (replicas.attempts > 1 &&
        (upstreamHeaders(req.headers, opts).hasBody || !NO_BODY.has(req.method))
      ? { bytes: await readBody(req, opts.bodyLimitBytes) }
      : undefined);
  let failed: EdgeError | undefined;
  for (let i = 0; i < replicas.attempts; i++) {
    const base = replicas.next();
    try {
      return await forward(req, { ...opts, url: base + pathAndQuery, ...(body ? { body } : {}) });
    } catch (e) {
      if (!(e instanceof EdgeError)) throw e;
      if (connectionRefused(e.cause)) replicas.refused(base);
      else if (!(SAFE.has(req.method) && connectionDropped(e.cause))) throw e;
      failed = e;
    }
  }
  throw failed!;
}

/**
 * Forwards a request and returns the upstream's response (status, headers, streamed body), or
 * throws an EdgeError (413, 502, 503, 504).
 *
 * @example
 * ```ts
 * const res = await forward(req, {
 *   url: "http://127.0.0.1:8094/v1/product/list", service: "product", timeoutMs: 10_000,
 *   requestId: crypto.randomUUID(), bodyLimitBytes: 1 << 20, dropTraceHeaders: false,
 * });
 * ```
 */
export async function forward(req: Request, opts: ForwardOptions): Promise<Response> {
  const { headers, hasBody } = upstreamHeaders(req.headers, opts);
  const body = opts.body
    ? opts.body.bytes
    : hasBody || !NO_BODY.has(req.method)
    ? await readBody(req, opts.bodyLimitBytes)
    : undefined;
  let res: Response;
  // A streaming response must outlive the timeout: a timer cleared once the headers are in.
  const abort = opts.streaming ? new AbortController() : undefined;
  const timer = abort
    ? setTimeout(() => abort.abort(new DOMException("timed out", "TimeoutError")), opts.timeoutMs)
    : undefined;
  const signals = [abort?.signal ?? AbortSignal.timeout(opts.timeoutMs)];
  if (opts.signal) signals.push(opts.signal);
  try {
    res = await fetch(opts.url, {
      client: upstreamPool,
      method: req.method,
      headers,
      ...(body ? { body } : {}),
      redirect: "manual",
      signal: signals.length === 1 ? signals[0]! : AbortSignal.any(signals),
    });
  } catch (err) {
    throw upstreamError(abort?.signal.reason ?? err, opts.service, opts.timeoutMs);
  } finally {
    clearTimeout(timer);
  }
  // fetch decoded a compressed body but kept its content-encoding and (encoded) length.
  const decoded = DECODED_BY_FETCH.has(res.headers.get("content-encoding")?.toLowerCase() ?? "");
  const back: HeaderPairs = [];
  for (const pair of res.headers) {
    if (RESPONSE_HOP_BY_HOP.has(pair[0])) continue;
    if (decoded && (pair[0] === "content-encoding" || pair[0] === "content-length")) continue;
    back.push(pair);
  }
  let answer = res.body;
  if (decoded && answer && acceptsGzip(req.headers.get("accept-encoding"))) {
    // The upstream chose to compress: keep it compressed for the client.
    answer = answer.pipeThrough(new CompressionStream("gzip"));
    back.push(["content-encoding", "gzip"]);
  }
  return new Response(answer, { status: res.status, statusText: res.statusText, headers: back });
}

/** Content codings Deno's fetch decodes by itself. */
const DECODED_BY_FETCH = new Set(["gzip", "x-gzip", "br", "deflate"]);

/** Whether an `Accept-Encoding` value takes gzip (`q=0` refuses it). */
export function acceptsGzip(acceptEncoding: string | null): boolean {
  for (const part of (acceptEncoding ?? "").toLowerCase().split(",")) {
    const [name, ...params] = part.trim().split(";");
    if (name !== "gzip" && name !== "x-gzip" && name !== "*") continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    return q === undefined || Number(q.slice(2)) > 0;
  }
  return false;
}
