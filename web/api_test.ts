import assert from "node:assert/strict";
import { servicesClient } from "./api.ts";

Deno.test("the web front's reads spread over every replica a service's name resolves to, over kept-alive connections", async () => {
  // Two replicas on two loopback addresses, one port (a headless Service's pods).
  const hits = new Map<string, number>();
  const serve = (hostname: string, port: number) =>
    Deno.serve({ hostname, port, onListen: () => {} }, () => {
      hits.set(hostname, (hits.get(hostname) ?? 0) + 1);
      return Response.json({ products: [] });
    });
  const first = serve("127.0.0.1", 0);
  const port = first.addr.port;
  const second = serve("127.0.0.2", port);
  try {
    const services = servicesClient(
      { product: `http://product.stocklet.test:${port}` } as never,
      5_000,
      {
        resolve: (host) =>
          Promise.resolve(host === "product.stocklet.test" ? ["127.0.0.1", "127.0.0.2"] : []),
      },
    );
    for (let i = 0; i < 20; i++) {
      assert.deepEqual(await services.get("/v1/product/list"), { products: [] });
    }
    // A name resolved once per connection would have kept every call on one replica.
    assert.deepEqual(Object.fromEntries(hits), { "127.0.0.1": 10, "127.0.0.2": 10 });
  } finally {
    await Promise.all([first.shutdown(), second.shutdown()]);
  }
});
