import assert from "node:assert/strict";
import {
  afterFailure,
  backoffMs,
  composeEmail,
  formatCents,
  Kind,
  NotificationStatus as S,
  orderRef,
  reasonInWords,
  subjectOf,
  transitions,
} from "./domain.ts";

const ORDER = "0190d6a4-7b1c-7cc3-9a4e-3f1b2c3d4e5f";
const ANN = { email: "ann@example.com", firstName: "Ann", lastName: "Lee" };
const POLICY = { baseMs: 1000, maxMs: 60_000, giveUpAfterMs: 3_600_000 };

Deno.test("transitions: a pending notification is sent or given up, once", () => {
  assert.ok(transitions.canMove(S.PENDING, S.SENT));
  assert.ok(transitions.canMove(S.PENDING, S.FAILED));
  assert.ok(!transitions.canMove(S.SENT, S.FAILED));
  assert.ok(!transitions.canMove(S.FAILED, S.SENT));
  assert.deepEqual(transitions.sourcesOf(S.SENT), [S.PENDING]);
});

Deno.test("formatCents() and orderRef() show money and orders the way customers read them", () => {
  assert.equal(formatCents("123456"), "1,234.56");
  assert.equal(formatCents(5n), "0.05");
  assert.equal(formatCents("100000000"), "1,000,000.00");
  assert.equal(formatCents(undefined), "0.00");
  assert.equal(orderRef(ORDER), "#2c3d4e5f");
});

Deno.test("subjectOf() names the order and what happened, never the customer", () => {
  assert.equal(subjectOf(Kind.ORDER_APPROVED, ORDER, {}), "Your order #2c3d4e5f is confirmed");
  assert.equal(subjectOf(Kind.ORDER_SHIPPED, ORDER, {}), "Your order #2c3d4e5f is on its way");
  assert.equal(
    subjectOf(Kind.ORDER_CANCELLED, ORDER, { amountCents: "4148" }),
    "Your order #2c3d4e5f was cancelled and 41.48 refunded",
  );
  assert.equal(
    subjectOf(Kind.ORDER_CANCELLED, ORDER, { amountCents: "0" }),
    "Your order #2c3d4e5f was cancelled",
  );
});

Deno.test("composeEmail(): plain text and HTML, greeting the customer by name, with the facts", () => {
  const shipped = composeEmail({
    kind: Kind.ORDER_SHIPPED,
    orderId: ORDER,
    subject: "s",
    facts: { carrier: "DHL", trackingNumber: "JD0123" },
  }, ANN);
  assert.equal(shipped.to, "ann@example.com");
  assert.match(shipped.text, /^Hello Ann,\n\n/);
  assert.match(shipped.text, /left our warehouse with DHL\./);
  assert.match(shipped.text, /Tracking number: JD0123\./);
  assert.match(shipped.html, /<p>Hello Ann,<\/p>/);
  assert.match(shipped.html, /Tracking number: JD0123\./);

  const rejected = composeEmail({
    kind: Kind.ORDER_REJECTED,
    orderId: ORDER,
    subject: "s",
    facts: { reason: "PAYMENT_FAILED" },
  }, ANN);
  assert.match(rejected.text, /because your balance does not cover its total\./);

  const cancelled = composeEmail({
    kind: Kind.ORDER_CANCELLED,
    orderId: ORDER,
    subject: "s",
    facts: { amountCents: "4148" },
  }, ANN);
  assert.match(cancelled.text, /We refunded 41\.48 to your balance\./);

  const hostile = composeEmail(
    { kind: Kind.ORDER_APPROVED, orderId: ORDER, subject: "<b>x</b>", facts: {} },
    { ...ANN, firstName: '<script>alert("x")</script>' },
  );
  assert.doesNotMatch(hostile.html, /<script>/, "names are escaped in the HTML part");
  assert.match(hostile.html, /&lt;script&gt;/);
});

Deno.test("reasonInWords() explains every rejection reason", () => {
  for (
    const r of [
      "PRODUCT_UNAVAILABLE",
      "INSUFFICIENT_STOCK",
      "SHIPMENT_FAILED",
      "PAYMENT_FAILED",
      "TIMEOUT",
    ]
  ) {
    assert.doesNotMatch(reasonInWords(r), /could not be completed$/, r);
  }
  assert.equal(reasonInWords("SOMETHING_NEW"), "it could not be completed");
});

Deno.test("backoffMs() doubles from the base up to the cap, with at most 20 % jitter", () => {
  assert.equal(backoffMs(1, POLICY, 1), 1000);
  assert.equal(backoffMs(2, POLICY, 1), 2000);
  assert.equal(backoffMs(4, POLICY, 1), 8000);
  assert.equal(backoffMs(30, POLICY, 1), 60_000);
  assert.equal(backoffMs(1, POLICY, 0), 800);
});

Deno.test("afterFailure(): a 5xx refusal gives up at once, others retry until the give-up age", () => {
  assert.deepEqual(afterFailure({ permanent: true, message: "550 no such user" }, 1, 0, POLICY), {
    retry: false,
    reason: "550 no such user",
  });
  const again = afterFailure({ permanent: false, message: "ECONNREFUSED" }, 3, 10_000, POLICY);
  assert.equal(again.retry, true);
  assert.ok(
    (again as { delayMs: number }).delayMs >= 3200 &&
      (again as { delayMs: number }).delayMs <= 4000,
  );
  const old = afterFailure({ permanent: false, message: "ECONNREFUSED" }, 40, 3_600_000, POLICY);
  assert.equal(old.retry, false);
  assert.match(
    (old as { reason: string }).reason,
    /gave up after 40 attempts in 3600 s: ECONNREFUSED/,
  );
});
