import assert from "node:assert/strict";
import {
  checkQuote,
  decideCancel,
  eventReason,
  IN_FLIGHT,
  inFlight,
  RejectReason,
  Status,
  transitions,
} from "./domain.ts";
import { events } from "@stocklet/shared/proto";

Deno.test("transitions allow only the forward moves of the saga, fulfilment and cancellation", () => {
  const all = [
    Status.PROCESSING,
    Status.PENDING,
    Status.APPROVED,
    Status.REJECTED,
    Status.COMPLETED,
    Status.SHIPPED,
    Status.CANCELLING,
    Status.CANCELLED,
  ];
  const allowed = new Set([
    "PROCESSING>PENDING",
    "PROCESSING>REJECTED",
    "PENDING>APPROVED",
    "PENDING>REJECTED",
    "PENDING>CANCELLING",
    "APPROVED>SHIPPED",
    "APPROVED>COMPLETED",
    "APPROVED>CANCELLING",
    "CANCELLING>CANCELLED",
    "CANCELLING>SHIPPED",
    "CANCELLING>COMPLETED",
    "SHIPPED>COMPLETED",
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
  assert.ok(!inFlight(Status.CANCELLING), "a cancellation is not a saga the timeout may reject");
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

Deno.test("decideCancel(): before dispatch an order is cancelled (or marked), after it refused", () => {
  assert.deepEqual(decideCancel(Status.APPROVED, false), { action: "cancel" });
  assert.deepEqual(decideCancel(Status.APPROVED, true), { action: "cancel" });
  assert.deepEqual(decideCancel(Status.PROCESSING, false), { action: "mark" });
  assert.deepEqual(decideCancel(Status.PENDING, false), { action: "mark" });
  assert.deepEqual(decideCancel(Status.PENDING, true), { action: "none" }, "asked twice");
  assert.deepEqual(decideCancel(Status.CANCELLING, true), { action: "none" });
  assert.deepEqual(decideCancel(Status.CANCELLED, true), { action: "none" });
  for (
    const [status, why] of [
      [Status.SHIPPED, /dispatched/],
      [Status.COMPLETED, /delivered/],
      [Status.REJECTED, /rejected/],
    ] as const
  ) {
    const d = decideCancel(status, false);
    assert.equal(d.action, "refuse");
    assert.match((d as { reason: string }).reason, why);
  }
});
