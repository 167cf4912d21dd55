import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { gzip, negotiate } from "./compress.ts";

Deno.test("negotiate() picks the first offered coding the client accepts", () => {
  assert.equal(negotiate("gzip, deflate, br, zstd", ["br", "gzip"]), "br");
  assert.equal(negotiate("gzip", ["br", "gzip"]), "gzip");
  assert.equal(negotiate("br;q=0, gzip;q=0.5", ["br", "gzip"]), "gzip");
  assert.equal(negotiate("identity", ["br", "gzip"]), undefined);
  assert.equal(negotiate(null, ["br", "gzip"]), undefined);
  assert.equal(negotiate("*", ["gzip"]), "gzip");
  assert.equal(negotiate("*, gzip;q=0", ["gzip"]), undefined);
});

Deno.test("gzip() round-trips", () => {
  const text = new TextEncoder().encode("<p>hello</p>".repeat(200));
  const packed = gzip(text);
  assert.ok(packed.byteLength < text.byteLength / 10);
  assert.deepEqual(new Uint8Array(gunzipSync(packed)), text);
});
