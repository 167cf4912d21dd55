import assert from "node:assert/strict";
import { decidePayment, INSUFFICIENT_BALANCE, PaymentStatus, transitions } from "./domain.ts";

const ALL = Object.values(PaymentStatus);
const name = (s: PaymentStatus) => Object.entries(PaymentStatus).find(([, v]) => v === s)![0];

Deno.test("transitions.canMove() allows only a refund of a paid order", () => {
  for (const from of ALL) {
    for (const to of ALL) {
      const allowed = from === PaymentStatus.SUCCEEDED && to === PaymentStatus.REFUNDED;
      assert.equal(transitions.canMove(from, to), allowed, `${name(from)} → ${name(to)}`);
    }
  }
});

Deno.test("transitions.sourcesOf() lists the statuses a move is allowed from", () => {
  assert.deepEqual(transitions.sourcesOf(PaymentStatus.REFUNDED), [PaymentStatus.SUCCEEDED]);
  assert.deepEqual(transitions.sourcesOf(PaymentStatus.SUCCEEDED), []);
  assert.deepEqual(transitions.sourcesOf(PaymentStatus.CANCELLED), []);
});

Deno.test("decidePayment() takes all of the amount or nothing", () => {
  assert.deepEqual(decidePayment(1000n, 399n), {
    status: PaymentStatus.SUCCEEDED,
    newBalanceCents: 601n,
  });
  assert.deepEqual(decidePayment(399n, 399n), {
    status: PaymentStatus.SUCCEEDED,
    newBalanceCents: 0n,
  });
  const refused = { status: PaymentStatus.FAILED, reason: INSUFFICIENT_BALANCE };
  assert.deepEqual(decidePayment(398n, 399n), refused);
  assert.deepEqual(decidePayment(undefined, 1n), refused, "no balance at all");
  assert.deepEqual(decidePayment(1000n, -1n), refused, "a negative amount would be a credit");
});
