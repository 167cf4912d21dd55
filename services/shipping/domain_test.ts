import assert from "node:assert/strict";
import { allocationProblem, ShipmentStatus as S, transitions } from "./domain.ts";

Deno.test("allocationProblem() accepts up to the limit and refuses beyond it", () => {
  assert.equal(allocationProblem({ a: 60, b: 40 }, 100), undefined);
  assert.match(
    allocationProblem({ a: 60, b: 41 }, 100)!,
    /101 units exceed the per-shipment limit of 100/,
  );
  assert.equal(allocationProblem({}, 100), "nothing to ship");
});

Deno.test("transitions: only an allocated shipment is released or dispatched", () => {
  const all = [S.ALLOCATED, S.RELEASED, S.DISPATCHED, S.FAILED, S.CANCELLED];
  const allowed = new Set(["ALLOCATED>RELEASED", "ALLOCATED>DISPATCHED"]);
  for (const from of all) {
    for (const to of all) {
      const key = `${S[from]}>${S[to]}`;
      assert.equal(transitions.canMove(from, to), allowed.has(key), key);
    }
  }
  assert.deepEqual(transitions.sourcesOf(S.RELEASED), [S.ALLOCATED]);
});
