import assert from "node:assert/strict";
import { Http1Client } from "./http1.ts";

/** A real Deno server on a free port for the length of `fn`. */
async function withServer(
  handler: (req: Request) => Response | Promise<Response>,
  fn: (origin: string, seen: { connections: Set<string> }) => Promise<void>,
): Promise<void> {
  const seen = { connections: new Set<string>() };
  const ac = new AbortController();
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", signal: ac.signal, onListen() {} },
    (req, info) => {
      seen.connections.add(`${info.remoteAddr.hostname}:${info.remoteAddr.port}`);
      return handler(req);
    },
  );
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`, seen);
  } finally {
    ac.abort();
    await server.finished;
  }
}

const echo = async (req: Request) =>
  Response.json({
    method: req.method,
    path: new URL(req.url).pathname,
    auth: req.headers.get("authorization"),
    body: await req.text(),
  }, { status: 201, headers: { "x-answer": "yes" } });

Deno.test("http1: sends method, path, headers and body, reads status, headers and body, and keeps the connection", async () => {
  await withServer(echo, async (origin, seen) => {
    const client = new Http1Client(origin);
    try {
      for (let i = 0; i < 3; i++) {
        const res = await client.request({
          method: "POST",
          path: `/v1/order/place?n=${i}`,
          headers: { authorization: "Bearer t", "content-type": "application/json" },
          body: JSON.stringify({ i, name: "Grüße" }),
        });
        assert.deepEqual(res.status, 201);
        assert.deepEqual(res.headers.get("x-answer"), "yes");
        assert.deepEqual(JSON.parse(res.text), {
          method: "POST",
          path: "/v1/order/place",
          auth: "Bearer t",
          body: JSON.stringify({ i, name: "Grüße" }),
        });
      }
      assert.deepEqual(client.opened, 1);
      assert.deepEqual(seen.connections.size, 1);
    } finally {
      client.close();
    }
  });
});

Deno.test("http1: a chunked answer is put together", async () => {
  const parts = ["first,", "second,", "x".repeat(40_000)];
  await withServer(
    () =>
      new Response(
        new ReadableStream({
          async pull(c) {
            const p = parts.shift();
            if (p === undefined) return c.close();
            await new Promise((r) => setTimeout(r, 5));
            c.enqueue(new TextEncoder().encode(p));
          },
        }),
      ),
    async (origin) => {
      const client = new Http1Client(origin);
      try {
        const res = await client.request({ method: "GET", path: "/" });
        assert.deepEqual(res.headers.get("transfer-encoding"), "chunked");
        assert.deepEqual(res.text, "first,second," + "x".repeat(40_000));
        // The connection is still usable after the last chunk.
        const again = await client.request({ method: "GET", path: "/" });
        assert.deepEqual(again.status, 200);
        assert.deepEqual(client.opened, 1);
      } finally {
        client.close();
      }
    },
  );
});

Deno.test("http1: an answer saying connection: close closes it, and the next request opens another", async () => {
  await withServer(
    () =>
      new Response("busy", { status: 429, headers: { "connection": "close", "retry-after": "1" } }),
    async (origin, seen) => {
      const client = new Http1Client(origin);
      try {
        for (let i = 0; i < 3; i++) {
          const res = await client.request({ method: "POST", path: "/", body: "{}" });
          assert.deepEqual(res.status, 429);
          assert.deepEqual(res.headers.get("retry-after"), "1");
          assert.deepEqual(res.text, "busy");
        }
        assert.deepEqual(client.opened, 3);
        assert.deepEqual(client.open, 0);
        assert.deepEqual(seen.connections.size, 3);
      } finally {
        client.close();
      }
    },
  );
});

Deno.test("http1: requests at once each get their own answer, on as many connections as were busy", async () => {
  await withServer(async (req) => {
    const body = await req.text();
    await new Promise((r) => setTimeout(r, 20));
    return new Response(body.toUpperCase());
  }, async (origin) => {
    const client = new Http1Client(origin);
    try {
      const answers = await Promise.all(
        Array.from(
          { length: 20 },
          (_, i) => client.request({ method: "POST", path: "/", body: `order-${i}` }),
        ),
      );
      assert.deepEqual(
        answers.map((a) => a.text),
        Array.from({ length: 20 }, (_, i) => `ORDER-${i}`),
      );
      assert.deepEqual(client.opened, 20);
      assert.deepEqual(client.open, 20, "kept idle: 20 of at most 64");
      // Idle now: a second round reuses them.
      await Promise.all(
        Array.from(
          { length: 20 },
          (_, i) => client.request({ method: "POST", path: "/", body: `${i}` }),
        ),
      );
      assert.deepEqual(client.opened, 20);
    } finally {
      client.close();
    }
  });
});

Deno.test("http1: past maxIdle, a connection is closed when its answer arrives", async () => {
  await withServer(async () => {
    await new Promise((r) => setTimeout(r, 20));
    return new Response("ok");
  }, async (origin) => {
    const client = new Http1Client(origin, { maxIdle: 5 });
    try {
      await Promise.all(
        Array.from({ length: 12 }, () => client.request({ method: "GET", path: "/" })),
      );
      assert.deepEqual([client.opened, client.open], [12, 5]);
    } finally {
      client.close();
    }
  });
});

Deno.test("http1: no answer within the timeout rejects with a TimeoutError and drops the connection", async () => {
  let release!: () => void;
  const held = new Promise<void>((r) => release = r);
  await withServer(async () => {
    await held;
    return new Response("late");
  }, async (origin) => {
    const client = new Http1Client(origin);
    try {
      const t0 = performance.now();
      await assert.rejects(
        () => client.request({ method: "GET", path: "/", timeoutMs: 100 }),
        (e: Error) => e.name === "TimeoutError",
      );
      const took = performance.now() - t0;
      assert.ok(took >= 95 && took < 2000, `took ${took} ms`);
      assert.deepEqual(client.open, 0);
    } finally {
      release();
      client.close();
    }
  });
});

Deno.test("http1: a connection the server closed while idle is replaced, the request sent once", async () => {
  // A raw server that answers one request per connection without saying so, then closes it.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let requests = 0;
  const serving = (async () => {
    for await (const conn of listener) {
      const buf = new Uint8Array(4096);
      const n = await conn.read(buf);
      if (n !== null) {
        requests++;
        const body = `answer ${requests}`;
        await conn.write(
          new TextEncoder().encode(
            `HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
          ),
        );
      }
      conn.close();
    }
  })();
  const client = new Http1Client(`http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`);
  try {
    assert.deepEqual((await client.request({ method: "GET", path: "/" })).text, "answer 1");
    await new Promise((r) => setTimeout(r, 50));
    // The idle connection is closed by now; the kernel may still take the write, in which case
    // the read sees the close: either way the request is not answered twice.
    const second = await client.request({ method: "GET", path: "/" }).then(
      (r) => r.text,
      (e: Error) => `failed: ${e.message}`,
    );
    assert.ok(
      second === "answer 2" || second.startsWith("failed: connection closed before the answer"),
      second,
    );
    assert.ok(requests <= 2, `${requests} requests served`);
  } finally {
    client.close();
    listener.close();
    await serving.catch(() => {});
  }
});

Deno.test("http1: an answer that is not HTTP/1.x is an error, not a status", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    for await (const conn of listener) {
      await conn.read(new Uint8Array(4096));
      await conn.write(new TextEncoder().encode("SSH-2.0-OpenSSH\r\n\r\n"));
      conn.close();
    }
  })();
  const client = new Http1Client(`http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`);
  try {
    await assert.rejects(
      () => client.request({ method: "GET", path: "/" }),
      /not an HTTP\/1\.x answer/,
    );
  } finally {
    client.close();
    listener.close();
    await serving.catch(() => {});
  }
});

Deno.test("http1: header values with line breaks are refused before anything is sent", async () => {
  const client = new Http1Client("http://127.0.0.1:9");
  await assert.rejects(
    () => client.request({ method: "GET", path: "/", headers: { "x-a": "1\r\nx-b: 2" } }),
    /line breaks/,
  );
  assert.deepEqual(client.opened, 0);
});
