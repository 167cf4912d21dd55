import assert from "node:assert/strict";
import { EdgeError } from "./errors.ts";
import { acceptsGzip, forward, readBody, upstreamError, upstreamHeaders } from "./proxy.ts";

Deno.test("upstreamHeaders() drops hop-by-hop, identity and underscored headers", () => {
  const h = upstreamHeaders(
    new Headers({
      host: "edge:8080",
      connection: "keep-alive",
      "content-length": "3",
      authorization: "Bearer t",
      "content-type": "application/json",
      "x-jwt-payload": "e30",
      "x-auth-user": "u",
      "x-forwarded-for": "10.0.0.1",
      "x-request-id": "client",
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    }),
    { requestId: "rid", dropTraceHeaders: true, clientIp: "127.0.0.1" },
  );
  assert.equal(h.hasBody, true);
  assert.deepEqual(Object.fromEntries(h.headers), {
    authorization: "Bearer t",
    "content-type": "application/json",
    "x-forwarded-for": "10.0.0.1, 127.0.0.1",
    "x-forwarded-proto": "http",
    "x-request-id": "rid",
  });
  const keep = upstreamHeaders(new Headers({ traceparent: "tp" }), {
    requestId: "r",
    dropTraceHeaders: false,
  });
  assert.deepEqual(keep.headers.find(([k]) => k === "traceparent"), ["traceparent", "tp"]);
  assert.equal(keep.hasBody, false);
});

Deno.test("readBody() returns the bytes, or 413 past the limit", async () => {
  const req = (body: BodyInit | null, headers: HeadersInit = {}) =>
    new Request("http://x/", { method: "POST", body, headers });
  assert.equal(new TextDecoder().decode(await readBody(req("hello"), 5)), "hello");
  assert.equal(await readBody(req(null), 5), undefined);
  assert.equal(await readBody(req(""), 5), undefined);
  await assert.rejects(readBody(req("hello!"), 5), (e: unknown) => {
    assert.ok(e instanceof EdgeError);
    assert.equal(e.status, 413);
    return true;
  });
  await assert.rejects(readBody(req("hi", { "content-length": "99" }), 5), /larger than 5 bytes/);
});

Deno.test("upstreamError() maps refusals to 502, timeouts to 504, the rest to 503", () => {
  const refused = new TypeError("fetch failed", {
    cause: new Error("tcp connect error: Connection refused (os error 111)"),
  });
  assert.equal(upstreamError(refused, "order", 1).status, 502);
  const closed = new TypeError("fetch failed", {
    cause: new Error("client error (SendRequest): connection closed before message completed"),
  });
  assert.equal(upstreamError(closed, "order", 1).status, 502);
  const timeout = new DOMException("The operation was aborted due to timeout", "TimeoutError");
  const t = upstreamError(timeout, "order", 250);
  assert.equal(t.status, 504);
  assert.equal(t.message, "upstream order timed out after 250 ms");
  const dns = new TypeError("fetch failed", { cause: new Error("dns error: failed to lookup") });
  assert.equal(upstreamError(dns, "order", 1).status, 503);
});

Deno.test("acceptsGzip() reads Accept-Encoding", () => {
  assert.equal(acceptsGzip("gzip, deflate, br"), true);
  assert.equal(acceptsGzip("br, gzip;q=0"), false);
  assert.equal(acceptsGzip("*"), true);
  assert.equal(acceptsGzip("identity"), false);
  assert.equal(acceptsGzip(null), false);
});

Deno.test("forward() keeps a compressed answer compressed, and plain for clients that take none", async () => {
  const page = "<p>compressed by the upstream</p>".repeat(100);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async () => {
    const gz = new Response(
      new Blob([page]).stream().pipeThrough(new CompressionStream("gzip")),
    );
    const bytes = new Uint8Array(await gz.arrayBuffer());
    return new Response(bytes, {
      headers: { "content-type": "text/html", "content-encoding": "gzip", vary: "accept-encoding" },
    });
  });
  const url = `http://127.0.0.1:${server.addr.port}/`;
  const opts = {
    url,
    service: "web",
    timeoutMs: 5_000,
    requestId: "r",
    bodyLimitBytes: 1024,
    dropTraceHeaders: false,
  };
  try {
    const gzipped = await forward(
      new Request("http://edge/", { headers: { "accept-encoding": "gzip, br" } }),
      opts,
    );
    assert.equal(gzipped.headers.get("content-encoding"), "gzip");
    assert.equal(gzipped.headers.get("content-length"), null);
    const raw = new Uint8Array(await gzipped.arrayBuffer());
    assert.ok(raw.byteLength < page.length / 4, "sent compressed");
    const unzipped = new Response(
      new Blob([raw]).stream().pipeThrough(new DecompressionStream("gzip")),
    );
    assert.equal(await unzipped.text(), page);

    const plain = await forward(new Request("http://edge/"), opts);
    assert.equal(plain.headers.get("content-encoding"), null);
    assert.equal(await plain.text(), page, "a client that takes no gzip gets the plain body");
  } finally {
    await server.shutdown();
  }
});
