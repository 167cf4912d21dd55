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

Deno.test("cancellable() offers cancelling before dispatch only", () => {
  assert.ok(cancellable("ORDER_STATUS_PENDING"));
  assert.ok(cancellable("ORDER_STATUS_APPROVED"));
  assert.ok(!cancellable("ORDER_STATUS_SHIPPED"));
  assert.ok(!cancellable("ORDER_STATUS_REJECTED"));
});

Deno.test("rejectReasonWords() reads both the API's and the event's reason names", () => {
  assert.equal(rejectReasonWords("REJECT_REASON_INSUFFICIENT_STOCK"), "not enough stock");
  assert.equal(rejectReasonWords("REASON_PAYMENT_FAILED"), "the payment failed");
  assert.equal(rejectReasonWords("REJECT_REASON_UNSPECIFIED"), "unknown");
});
