import assert from "node:assert/strict";
import { ReservationStatus as R, shortages, transitions } from "./domain.ts";

Deno.test("transitions: reserved stock is consumed or returned, once; consumed stock stays gone", () => {
  const all = [R.RESERVED, R.CONSUMED, R.RETURNED, R.FAILED, R.CANCELLED];
  const allowed = new Set(["RESERVED>CONSUMED", "RESERVED>RETURNED"]);
  for (const from of all) {
    for (const to of all) {
      const key = `${R[from]}>${R[to]}`;
      assert.equal(transitions.canMove(from, to), allowed.has(key), key);
    }
  }
  assert.deepEqual(transitions.sourcesOf(R.RETURNED), [R.RESERVED]);
});

Deno.test("shortages() names every product that cannot be had, and nothing else", () => {
  const levels = new Map([["a", 3], ["b", 4], ["c", 0]]);
  assert.deepEqual(shortages({ a: 3, b: 4 }, levels), []);
  assert.deepEqual(shortages({ b: 5, a: 2 }, levels), ["b"]);
  assert.deepEqual(shortages({ c: 1, z: 1, a: 1 }, levels), ["c", "z"], "out of stock, unknown");
  assert.deepEqual(shortages({ a: 0, b: -1 }, levels), ["a", "b"], "quantities must be positive");
});
