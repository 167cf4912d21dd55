import assert from "node:assert/strict";
import {
  checkQuote,
  eventReason,
  IN_FLIGHT,
  inFlight,
  RejectReason,
  Status,
  transitions,
} from "./domain.ts";
import { events } from "@stocklet/shared/proto";

Deno.test("transitions allow only the forward transitions of the saga", () => {
  const all = [
    Status.PROCESSING,
    Status.PENDING,
    Status.APPROVED,
    Status.REJECTED,
    Status.COMPLETED,
  ];
  const allowed = new Set([
    "PROCESSING>PENDING",
    "PROCESSING>REJECTED",
    "PENDING>APPROVED",
    "PENDING>REJECTED",
    "APPROVED>COMPLETED",
  ]);
  for (const from of all) {
    for (const to of all) {
      const key = `${Status[from]}>${Status[to]}`;
      assert.equal(transitions.canMove(from, to), allowed.has(key), key);
    }
  }
});

Deno.test("inFlight() is true only before a terminal status", () => {
  assert.ok(inFlight(Status.PROCESSING));
  assert.ok(inFlight(Status.PENDING));
  assert.ok(!inFlight(Status.APPROVED));
  assert.ok(!inFlight(Status.REJECTED));
  assert.ok(!inFlight(Status.COMPLETED));
  assert.deepEqual(IN_FLIGHT, [Status.PROCESSING, Status.PENDING]);
});

Deno.test("eventReason() maps every reject reason to the event's reason of the same name", () => {
  for (const [name, value] of Object.entries(RejectReason)) {
    if (typeof value !== "number") continue;
    const reason = eventReason(value);
    assert.equal(events.OrderRejectedEvent_Reason[reason], name);
  }
});

Deno.test("checkQuote() accepts an exact quote and rejects one that does not add up", () => {
  const items = { a: 2, b: 1 };
  assert.equal(
    checkQuote(items, { productPricesCents: { a: 150n, b: 99n }, totalPriceCents: 399n }),
    undefined,
  );
  assert.match(
    checkQuote(items, { productPricesCents: { a: 150n, b: 99n }, totalPriceCents: 400n })!,
    /not Σ/,
  );
  assert.match(
    checkQuote(items, { productPricesCents: { a: 150n }, totalPriceCents: 300n })!,
    /no price for b/,
  );
  assert.match(
    checkQuote(items, { productPricesCents: { a: 1n, b: 1n, c: 1n }, totalPriceCents: 3n })!,
    /does not have/,
  );
});
