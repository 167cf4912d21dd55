import assert from "node:assert/strict";
import { isUuid, uuidv7 } from "./ids.ts";

Deno.test("uuidv7() gives valid, version-7, strictly increasing ids", () => {
  const ids = Array.from({ length: 5000 }, () => uuidv7());
  for (const id of ids) {
    assert.ok(isUuid(id), id);
    assert.equal(id[14], "7");
    assert.ok("89ab".includes(id[19]!), id);
  }
  for (let i = 1; i < ids.length; i++) {
    assert.ok(ids[i - 1]! < ids[i]!, `${ids[i - 1]} < ${ids[i]}`);
  }
  assert.equal(new Set(ids).size, ids.length);
});

Deno.test("uuidv7() encodes the millisecond timestamp in the first 48 bits", () => {
  const t = Date.UTC(2030, 5, 1);
  const id = uuidv7(t + 10_000_000);
  const ms = parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
  assert.equal(ms, t + 10_000_000);
});

Deno.test("isUuid() rejects traversal and injection attempts", () => {
  for (const bad of ["../etc/passwd", "1' OR '1'='1", "", "0190d6a4-7b1c-7cc3-9a4e-3f1b2c3d4e5"]) {
    assert.equal(isUuid(bad), false, bad);
  }
});
