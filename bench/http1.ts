/**
 * A lean HTTP/1.1 client for the load generator: keep-alive connections over `Deno.connect`, a
 * request written as one buffer, a response parsed for its status, headers and body (by
 * `content-length`, chunked, or up to the close). The load generator shares the two cores with the
 * stack it measures, and `fetch` costs it about 0.65 ms of CPU per request at 300 requests/s on
 * this host against 0.32–0.38 for this client (0.50 against 0.19 at 600/s): under overload, when
 * most requests are refused at once, that difference is CPU the stack's sagas do not get.
 *
 * Only what the bench sends: one request at a time per connection (no pipelining), no redirects,
 * no TLS, no `Expect: 100-continue`. A request fails (rejects) on a timeout, a connection closed
 * before its answer, or an answer that is not HTTP/1.x; a request whose write fails on a reused
 * connection (the server closed it while idle) is sent again once on a new one, since the server
 * never read it.
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const CRLF = [13, 10];
const CRLF_CRLF = [13, 10, 13, 10];

/** One request. */
export interface Http1Request {
  method: string;
  /** The path and query, e.g. `/v1/order/place`. */
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** Rejects with a `TimeoutError` past this (ms). @default 15000 */
  timeoutMs?: number;
}

/** One answer. */
export interface Http1Response {
  status: number;
  /** Header names in lower case. */
  headers: Map<string, string>;
  text: string;
}

/** Bytes read from a connection, not yet consumed. */
class Inbox {
  #chunks: Uint8Array[] = [];
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(bytes: Uint8Array): void {
    this.#chunks.push(bytes);
    this.#length += bytes.length;
  }

  /** The index of the first occurrence of `pattern`, or -1. */
  indexOf(pattern: readonly number[]): number {
    const all = this.#joined();
    outer: for (let i = 0; i + pattern.length <= all.length; i++) {
      for (let j = 0; j < pattern.length; j++) if (all[i + j] !== pattern[j]) continue outer;
      return i;
    }
    return -1;
  }

  /** Removes and returns the first `n` bytes. */
  take(n: number): Uint8Array {
    const all = this.#joined();
    const head = all.slice(0, n);
    const rest = all.subarray(n);
    this.#chunks = rest.length ? [rest] : [];
    this.#length = rest.length;
    return head;
  }

  #joined(): Uint8Array {
    if (this.#chunks.length === 1) return this.#chunks[0]!;
    const all = new Uint8Array(this.#length);
    let at = 0;
    for (const c of this.#chunks) {
      all.set(c, at);
      at += c.length;
    }
    this.#chunks = all.length ? [all] : [];
    return all;
  }
}

/** One keep-alive connection. */
class Connection {
  readonly #conn: Deno.TcpConn;
  readonly #inbox = new Inbox();
  readonly #chunk = new Uint8Array(16 * 1024);
  closed = false;

  constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  async write(bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.length) off += await this.#conn.write(bytes.subarray(off));
  }

  /** Reads more bytes; false at the end of the stream. */
  async #fill(): Promise<boolean> {
    const n = await this.#conn.read(this.#chunk);
    if (n === null) return false;
    this.#inbox.push(this.#chunk.slice(0, n));
    return true;
  }

  async #need(what: string, ready: () => boolean): Promise<void> {
    while (!ready()) {
      if (!(await this.#fill())) throw new Error(`connection closed before the ${what}`);
    }
  }

  /** Reads one answer. */
  async read(): Promise<{ res: Http1Response; keepAlive: boolean }> {
    let headEnd = -1;
    await this.#need("answer", () => (headEnd = this.#inbox.indexOf(CRLF_CRLF)) >= 0);
    const head = decoder.decode(this.#inbox.take(headEnd + 4)).slice(0, -4).split("\r\n");
    const statusLine = /^HTTP\/1\.([01]) (\d{3})/.exec(head[0] ?? "");
    if (!statusLine) throw new Error(`not an HTTP/1.x answer: ${(head[0] ?? "").slice(0, 80)}`);
    const headers = new Map<string, string>();
    for (const line of head.slice(1)) {
      const colon = line.indexOf(":");
      if (colon > 0) {
        headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
    }
    const connection = headers.get("connection")?.toLowerCase();
    let keepAlive = statusLine[1] === "1" ? connection !== "close" : connection === "keep-alive";
    let body: Uint8Array;
    const length = headers.get("content-length");
    if (headers.get("transfer-encoding")?.toLowerCase().includes("chunked")) {
      body = await this.#chunked();
    } else if (length !== undefined) {
      const n = Number(length);
      if (!Number.isInteger(n) || n < 0) throw new Error(`content-length ${length}`);
      await this.#need("body", () => this.#inbox.length >= n);
      body = this.#inbox.take(n);
    } else {
      while (await this.#fill());
      body = this.#inbox.take(this.#inbox.length);
      keepAlive = false;
    }
    return {
      res: { status: Number(statusLine[2]), headers, text: decoder.decode(body) },
      keepAlive,
    };
  }

  async #chunked(): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    for (;;) {
      let lineEnd = -1;
      await this.#need("chunk size", () => (lineEnd = this.#inbox.indexOf(CRLF)) >= 0);
      const sizeLine = decoder.decode(this.#inbox.take(lineEnd + 2)).trim();
      const size = parseInt(sizeLine.split(";")[0]!, 16);
      if (!Number.isFinite(size) || size < 0) throw new Error(`chunk size ${sizeLine}`);
      if (size === 0) {
        // Trailers, if any, then the empty line.
        for (;;) {
          await this.#need("trailer", () => (lineEnd = this.#inbox.indexOf(CRLF)) >= 0);
          const trailer = this.#inbox.take(lineEnd + 2);
          if (trailer.length === 2) break;
        }
        break;
      }
      await this.#need("chunk", () => this.#inbox.length >= size + 2);
      parts.push(this.#inbox.take(size + 2).subarray(0, size));
    }
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    return all;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }
}

/**
 * Keep-alive HTTP/1.1 requests to one origin: an idle connection is reused (the most recently
 * used first), a new one opened when none is idle.
 *
 * @example
 * ```ts
 * const client = new Http1Client("http://127.0.0.1:8080");
 * const res = await client.request({ method: "POST", path: "/v1/order/place", body: "{}" });
 * console.log(res.status, res.text);
 * client.close();
 * ```
 */
export class Http1Client {
  readonly #hostname: string;
  readonly #port: number;
  readonly #host: string;
  readonly #idle: Connection[] = [];
  readonly #open = new Set<Connection>();
  readonly #maxIdle: number;
  #opened = 0;

  /**
   * @param origin `http://host:port`.
   * @param opts `maxIdle`: idle connections kept at most (64); past it a connection is closed
   *   when its answer arrives, so a burst's connections are not all kept open at the server.
   */
  constructor(origin: string | URL, opts: { maxIdle?: number } = {}) {
    this.#maxIdle = opts.maxIdle ?? 64;
    const url = new URL(origin);
    if (url.protocol !== "http:") throw new Error(`${url.protocol} not supported: http only`);
    this.#hostname = url.hostname.replace(/^\[|\]$/g, "");
    this.#port = Number(url.port || 80);
    this.#host = url.host;
  }

  /** Connections opened so far. */
  get opened(): number {
    return this.#opened;
  }

  /** Connections open now (idle or busy). */
  get open(): number {
    return this.#open.size;
  }

  /** Sends one request and reads its answer. */
  async request(req: Http1Request): Promise<Http1Response> {
    const bytes = this.#encode(req);
    const timeoutMs = req.timeoutMs ?? 15_000;
    let conn = this.#idle.pop();
    const reused = conn !== undefined;
    conn ??= await this.#connect();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      conn?.close();
    }, timeoutMs);
    try {
      try {
        await conn.write(bytes);
      } catch (e) {
        if (!reused || timedOut) throw e;
        // The server closed it while it was idle: it never read this request.
        this.#drop(conn);
        conn = await this.#connect();
        await conn.write(bytes);
      }
      const { res, keepAlive } = await conn.read();
      if (keepAlive && !timedOut && this.#idle.length < this.#maxIdle) this.#idle.push(conn);
      else this.#drop(conn);
      return res;
    } catch (e) {
      this.#drop(conn);
      if (timedOut) {
        throw new DOMException(`no answer within ${timeoutMs} ms`, "TimeoutError");
      }
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes every connection (requests in progress fail). */
  close(): void {
    for (const c of this.#open) c.close();
    this.#open.clear();
    this.#idle.length = 0;
  }

  async #connect(): Promise<Connection> {
    const tcp = await Deno.connect({ hostname: this.#hostname, port: this.#port });
    // Each request is one write, but a delayed ACK must never hold a small one back.
    tcp.setNoDelay(true);
    const conn = new Connection(tcp);
    this.#opened++;
    this.#open.add(conn);
    return conn;
  }

  #drop(conn: Connection): void {
    conn.close();
    this.#open.delete(conn);
    const i = this.#idle.indexOf(conn);
    if (i >= 0) this.#idle.splice(i, 1);
  }

  #encode(req: Http1Request): Uint8Array {
    const body = req.body === undefined ? undefined : encoder.encode(req.body);
    let head = `${req.method} ${req.path} HTTP/1.1\r\nhost: ${this.#host}\r\n`;
    for (const [k, v] of Object.entries(req.headers ?? {})) {
      if (/[\r\n]/.test(k + v)) throw new Error(`header ${k}: line breaks are not allowed`);
      head += `${k}: ${v}\r\n`;
    }
    head += `content-length: ${body?.length ?? 0}\r\n\r\n`;
    const h = encoder.encode(head);
    if (!body) return h;
    const all = new Uint8Array(h.length + body.length);
    all.set(h);
    all.set(body, h.length);
    return all;
  }
}
