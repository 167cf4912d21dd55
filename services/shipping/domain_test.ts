import assert from "node:assert/strict";
import { allocationProblem } from "./domain.ts";

Deno.test("allocationProblem() accepts up to the limit and refuses beyond it", () => {
  assert.equal(allocationProblem({ a: 60, b: 40 }, 100), undefined);
  assert.match(
    allocationProblem({ a: 60, b: 41 }, 100)!,
    /101 units exceed the per-shipment limit of 100/,
  );
  assert.equal(allocationProblem({}, 100), "nothing to ship");
});
