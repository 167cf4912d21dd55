import assert from "node:assert/strict";
import {
  cancellable,
  laterStatus,
  rejectReasonWords,
  STATUS_NAMES,
  statusClass,
  statusName,
  statusWord,
} from "./status.ts";

Deno.test("statusWord() names every status of the contract in a word", () => {
  assert.equal(statusWord("ORDER_STATUS_PROCESSING"), "Processing");
  assert.equal(statusWord("ORDER_STATUS_PENDING"), "Pending");
  assert.equal(statusWord("ORDER_STATUS_APPROVED"), "Approved");
  assert.equal(statusWord("ORDER_STATUS_REJECTED"), "Rejected");
  assert.equal(statusWord("ORDER_STATUS_COMPLETED"), "Completed");
  // Statuses issue 15 adds read the same way.
  assert.equal(statusWord("ORDER_STATUS_SHIPPED"), "Shipped");
  assert.equal(statusWord("ORDER_STATUS_CANCELLED"), "Cancelled");
  assert.equal(statusWord("ORDER_STATUS_CANCELLING"), "Cancelling");
  assert.equal(statusClass("ORDER_STATUS_CANCELLING"), "status-cancelling");
  assert.equal(statusWord("ORDER_STATUS_UNSPECIFIED"), "Unknown");
  assert.equal(statusWord(2), "Pending");
  assert.ok(STATUS_NAMES.includes("ORDER_STATUS_APPROVED"));
  assert.ok(!STATUS_NAMES.includes("ORDER_STATUS_UNSPECIFIED"));
  assert.equal(statusName(4), "ORDER_STATUS_APPROVED");
  assert.equal(statusClass("ORDER_STATUS_REJECTED"), "status-rejected");
});

Deno.test("laterStatus() never moves an order back", () => {
  assert.equal(
    laterStatus("ORDER_STATUS_PENDING", "ORDER_STATUS_PROCESSING"),
    "ORDER_STATUS_PENDING",
  );
  assert.equal(
    laterStatus("ORDER_STATUS_PENDING", "ORDER_STATUS_APPROVED"),
    "ORDER_STATUS_APPROVED",
  );
  assert.equal(
    laterStatus("ORDER_STATUS_APPROVED", "ORDER_STATUS_CANCELLED"),
    "ORDER_STATUS_CANCELLED",
  );
  assert.equal(
    laterStatus("ORDER_STATUS_REJECTED", "ORDER_STATUS_PENDING"),
    "ORDER_STATUS_REJECTED",
  );
});

Deno.test("laterStatus() follows an order's life after approval", () => {
  const life = (statuses: string[]) =>
    statuses.map((s) => `ORDER_STATUS_${s}`).reduce((a, b) => laterStatus(a, b));
  assert.equal(life(["APPROVED", "SHIPPED", "COMPLETED"]), "ORDER_STATUS_COMPLETED");
  // Shipping's events may reach the page before the order service recorded them, in any order.
  assert.equal(life(["APPROVED", "COMPLETED", "SHIPPED"]), "ORDER_STATUS_COMPLETED");
  assert.equal(life(["APPROVED", "CANCELLING", "CANCELLED"]), "ORDER_STATUS_CANCELLED");
  assert.equal(life(["CANCELLED", "CANCELLING", "APPROVED"]), "ORDER_STATUS_CANCELLED");
  // A dispatch that reached the shipment first: the cancelling order ships after all.
  assert.equal(life(["APPROVED", "CANCELLING", "SHIPPED"]), "ORDER_STATUS_SHIPPED");
  assert.equal(life(["SHIPPED", "CANCELLING"]), "ORDER_STATUS_SHIPPED");
});

Deno.test("cancellable() offers cancelling before dispatch only", () => {
  assert.ok(cancellable("ORDER_STATUS_PENDING"));
  assert.ok(cancellable("ORDER_STATUS_APPROVED"));
  assert.ok(!cancellable("ORDER_STATUS_SHIPPED"));
  assert.ok(!cancellable("ORDER_STATUS_REJECTED"));
  assert.ok(!cancellable("ORDER_STATUS_CANCELLING"));
  assert.ok(!cancellable("ORDER_STATUS_CANCELLED"));
  assert.ok(!cancellable("ORDER_STATUS_COMPLETED"));
  // Asked already: an order being placed is cancelled once paid, no second button.
  assert.ok(!cancellable("ORDER_STATUS_PENDING", true));
});

Deno.test("rejectReasonWords() reads both the API's and the event's reason names", () => {
  assert.equal(rejectReasonWords("REJECT_REASON_INSUFFICIENT_STOCK"), "not enough stock");
  assert.equal(rejectReasonWords("REASON_PAYMENT_FAILED"), "the payment failed");
  assert.equal(rejectReasonWords("REJECT_REASON_UNSPECIFIED"), "unknown");
});
