import assert from "node:assert/strict";
import { edgeHandler } from "./app.ts";
import { docsHandler, SWAGGER_ASSETS, swaggerUiDir } from "./docs.ts";
import { testKeys } from "@stocklet/testing/tokens";

async function withEdge(fn: (url: string) => Promise<void>): Promise<void> {
  const kit = await testKeys();
  const none = "http://127.0.0.1:9";
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    edgeHandler({
      upstreams: {
        auth: none,
        user: none,
        product: none,
        warehouse: none,
        order: none,
        shipping: none,
        payment: none,
        notification: none,
      },
      verifier: kit.verifier,
      docs: docsHandler(),
    }),
  );
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`);
  } finally {
    await server.shutdown();
  }
}

Deno.test("swaggerUiDir() finds the npm package", async () => {
  const pkg = JSON.parse(await Deno.readTextFile(`${swaggerUiDir()}/package.json`));
  assert.equal(pkg.name, "swagger-ui-dist");
  assert.equal(pkg.version, "5.35.0");
});

Deno.test("/docs serves HTML whose scripts and styles all answer 200", async () => {
  await withEdge(async (url) => {
    const page = await fetch(`${url}/docs`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
    const html = await page.text();
    assert.match(html, /<div id="swagger-ui">/);
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    assert.ok(refs.length >= 5, "css, icons, bundle, preset, init");
    assert.ok(refs.every((r) => r.startsWith("/docs/")), "no CDN: every asset is local");
    for (const ref of refs) {
      const res = await fetch(url + ref);
      const body = await res.arrayBuffer();
      assert.equal(res.status, 200, ref);
      assert.ok(body.byteLength > 0, ref);
      const name = ref.slice("/docs/".length);
      if (name in SWAGGER_ASSETS) {
        assert.equal(res.headers.get("content-type"), SWAGGER_ASSETS[name]);
      }
    }
    const init = await (await fetch(`${url}/docs/init.js`)).text();
    assert.match(init, /url: "\/openapi\.json"/);
    // The bundle really is Swagger UI.
    const bundle = await (await fetch(`${url}/docs/swagger-ui-bundle.js`)).text();
    assert.match(bundle, /SwaggerUIBundle/);
  });
});

Deno.test("/docs answers nothing outside its asset list", async () => {
  await withEdge(async (url) => {
    for (const path of ["/docs/package.json", "/docs/index.js", "/docs/x/../package.json"]) {
      const res = await fetch(url + path);
      await res.body?.cancel();
      assert.equal(res.status, 404, path);
    }
  });
});
