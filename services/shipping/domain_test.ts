import assert from "node:assert/strict";
import {
  allocationProblem,
  decideDelivery,
  decideDispatch,
  ShipmentStatus as S,
  transitions,
} from "./domain.ts";

Deno.test("allocationProblem() accepts up to the limit and refuses beyond it", () => {
  assert.equal(allocationProblem({ a: 60, b: 40 }, 100), undefined);
  assert.match(
    allocationProblem({ a: 60, b: 41 }, 100)!,
    /101 units exceed the per-shipment limit of 100/,
  );
  assert.equal(allocationProblem({}, 100), "nothing to ship");
});

Deno.test("transitions: only an allocated shipment is released or dispatched; only a dispatched one delivered", () => {
  const all = [S.ALLOCATED, S.RELEASED, S.DISPATCHED, S.FAILED, S.CANCELLED, S.DELIVERED];
  const allowed = new Set(["ALLOCATED>RELEASED", "ALLOCATED>DISPATCHED", "DISPATCHED>DELIVERED"]);
  for (const from of all) {
    for (const to of all) {
      const key = `${S[from]}>${S[to]}`;
      assert.equal(transitions.canMove(from, to), allowed.has(key), key);
    }
  }
  assert.deepEqual(transitions.sourcesOf(S.RELEASED), [S.ALLOCATED]);
});

Deno.test("decideDispatch(): an approved allocated shipment moves; a repeat is harmless; the rest is refused", () => {
  const state = (
    status: S,
    ready = true,
    carrier: string | null = null,
    tracking: string | null = null,
  ) => ({
    status,
    ready,
    carrier,
    trackingNumber: tracking,
  });
  assert.deepEqual(decideDispatch(state(S.ALLOCATED), "DHL", "1"), { action: "move" });
  assert.match(
    (decideDispatch(state(S.ALLOCATED, false), "DHL", "1") as { reason: string }).reason,
    /not approved yet/,
  );
  assert.deepEqual(decideDispatch(state(S.DISPATCHED, true, "DHL", "1"), "DHL", "1"), {
    action: "none",
  });
  assert.match(
    (decideDispatch(state(S.DISPATCHED, true, "DHL", "1"), "UPS", "1") as { reason: string })
      .reason,
    /dispatched already \(DHL, tracking 1\)/,
  );
  for (
    const [status, why] of [
      [S.RELEASED, /released/],
      [S.FAILED, /could not be allocated/],
      [S.CANCELLED, /rejected/],
    ] as const
  ) {
    const d = decideDispatch(state(status), "DHL", "1");
    assert.equal(d.action, "refuse");
    assert.match((d as { reason: string }).reason, why);
  }
});

Deno.test("decideDelivery(): a dispatched shipment moves, a delivered one is a repeat, others are refused", () => {
  const s = (status: S) => ({ status, ready: true, carrier: "DHL", trackingNumber: "1" });
  assert.deepEqual(decideDelivery(s(S.DISPATCHED)), { action: "move" });
  assert.deepEqual(decideDelivery(s(S.DELIVERED)), { action: "none" });
  assert.match((decideDelivery(s(S.ALLOCATED)) as { reason: string }).reason, /not dispatched yet/);
  assert.match((decideDelivery(s(S.RELEASED)) as { reason: string }).reason, /released/);
});
