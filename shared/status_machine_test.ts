import assert from "node:assert/strict";
import { statusMachine } from "./status_machine.ts";

const enum S {
  A = 1,
  B = 2,
  C = 3,
  D = 4,
}

Deno.test("statusMachine() answers from its table, and only from it", () => {
  const m = statusMachine<S>({ [S.A]: [S.B, S.C], [S.B]: [S.C], [S.C]: [] });
  assert.ok(m.canMove(S.A, S.B));
  assert.ok(m.canMove(S.B, S.C));
  assert.ok(!m.canMove(S.B, S.A), "no move backwards");
  assert.ok(!m.canMove(S.A, S.A), "no move in place unless listed");
  assert.ok(!m.canMove(S.D, S.A), "a status missing from the table makes no move");
  assert.deepEqual(m.sourcesOf(S.C), [S.A, S.B]);
  assert.deepEqual(m.sourcesOf(S.A), []);
  assert.deepEqual([m.isFinal(S.A), m.isFinal(S.C), m.isFinal(S.D)], [false, true, true]);
});
