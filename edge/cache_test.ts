import assert from "node:assert/strict";
import { responseCache, sharedMaxAge } from "./cache.ts";

function upstream(cacheControl: string | null, status = 200) {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    fetch: async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 5));
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (cacheControl) headers["cache-control"] = cacheControl;
      return new Response(JSON.stringify({ n: calls }), { status, headers });
    },
  };
}

const get = (headers: Record<string, string> = {}) =>
  new Request("http://edge/v1/product/list", { headers });

Deno.test("sharedMaxAge() honours public max-age and refuses private or no-store", () => {
  assert.equal(sharedMaxAge("public, max-age=2"), 2);
  assert.equal(sharedMaxAge("public, max-age=2, s-maxage=5"), 5);
  assert.equal(sharedMaxAge("private, max-age=2"), 0);
  assert.equal(sharedMaxAge("public, no-store, max-age=2"), 0);
  assert.equal(sharedMaxAge("max-age=2"), 0);
  assert.equal(sharedMaxAge(null), 0);
});

Deno.test("responseCache() serves public reads from memory until they expire", async () => {
  let clock = 0;
  const cache = responseCache({ now: () => clock });
  const up = upstream("public, max-age=1");
  const first = await cache.serve(get(), "/v1/product/list", up.fetch);
  assert.equal(first.headers.get("x-cache"), "MISS");
  assert.deepEqual(await first.json(), { n: 1 });
  clock = 900;
  const second = await cache.serve(get(), "/v1/product/list", up.fetch);
  assert.equal(second.headers.get("x-cache"), "HIT");
  assert.deepEqual(await second.json(), { n: 1 });
  clock = 1000;
  assert.deepEqual(await (await cache.serve(get(), "/v1/product/list", up.fetch)).json(), { n: 2 });
  assert.equal(up.calls, 2);
});

Deno.test("responseCache() shares one upstream request between concurrent misses", async () => {
  const cache = responseCache();
  const up = upstream("public, max-age=5");
  const answers = await Promise.all(
    Array.from({ length: 10 }, () => cache.serve(get(), "/k", up.fetch)),
  );
  assert.equal(up.calls, 1);
  for (const a of answers) assert.deepEqual(await a.json(), { n: 1 });
});

Deno.test("responseCache() never serves or stores credentialed, private or failed answers", async () => {
  const cache = responseCache();
  const pub = upstream("public, max-age=5");
  await cache.serve(get({ authorization: "Bearer x" }), "/a", pub.fetch);
  await cache.serve(get({ authorization: "Bearer x" }), "/a", pub.fetch);
  assert.equal(pub.calls, 2, "a request with credentials always goes upstream");
  const priv = upstream("private, no-store");
  await cache.serve(get(), "/b", priv.fetch);
  await cache.serve(get(), "/b", priv.fetch);
  assert.equal(priv.calls, 2);
  const failed = upstream("public, max-age=5", 503);
  await cache.serve(get(), "/c", failed.fetch);
  await cache.serve(get(), "/c", failed.fetch);
  assert.equal(failed.calls, 2);
  assert.equal(cache.size(), 0);
});

Deno.test("responseCache() keeps no answer that varies by request headers", async () => {
  const cache = responseCache();
  let calls = 0;
  const coded = () => {
    calls++;
    return Promise.resolve(
      new Response("compressed bytes", {
        headers: {
          "cache-control": "public, max-age=60",
          "content-encoding": "br",
          vary: "accept-encoding",
        },
      }),
    );
  };
  await (await cache.serve(get({ "accept-encoding": "br" }), "/static/app.css", coded)).text();
  const plain = await cache.serve(get(), "/static/app.css", coded);
  await plain.text();
  assert.equal(calls, 2, "a client that takes no Brotli is never given the cached Brotli body");
  assert.equal(cache.size(), 0);
});
