import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { events } from "@stocklet/shared/proto";
import {
  allocationStep,
  approvedStep,
  compensations,
  describeStep,
  failureText,
  paymentStep,
  pendingStep,
  placedStep,
  quoteStep,
  refundStep,
  rejectedStep,
  reservationStep,
  shortId,
  type TimelineStep,
} from "./timeline.ts";

const ORDER = "01a22e13-0188-7000-b909-aed44d9a9e0a";
const TEAPOT = "01a22e12-cdc8-7000-92bc-923aa2551fac";
const CUPS = "01a22e12-d10a-7000-8dd2-9b89ff6cd82c";
const SHIPMENT = "01a22e13-0190-7000-8000-0000bf556d08";
const names = new Map([[TEAPOT, "Teapot"], [CUPS, "Cups"]]);

const Stock = events.StockReservationEvent_Type;
const Allocation = events.ShipmentAllocationEvent_Type;
const Payment = events.PaymentProcessedEvent_Type;
const Quote = events.ProductPriceQuoteEvent_Type;

/** A successful saga's steps, in order. */
function happy(): TimelineStep[] {
  return [
    placedStep(create(events.OrderCreatedEventSchema, {
      orderId: ORDER,
      itemQuantities: { [TEAPOT]: 2, [CUPS]: 1 },
    })),
    quoteStep(create(events.ProductPriceQuoteEventSchema, {
      orderId: ORDER,
      type: Quote.AVAILABLE,
      productQuantities: { [TEAPOT]: 2, [CUPS]: 1 },
      totalPriceCents: 9300n,
    }))!,
    pendingStep(create(events.OrderPendingEventSchema, { orderId: ORDER, totalPriceCents: 9300n })),
    reservationStep(create(events.StockReservationEventSchema, {
      orderId: ORDER,
      type: Stock.STOCK_RESERVED,
      reservationStock: { [TEAPOT]: 2, [CUPS]: 1 },
    }))!,
    allocationStep(create(events.ShipmentAllocationEventSchema, {
      orderId: ORDER,
      type: Allocation.ALLOCATED,
      shipmentId: SHIPMENT,
    }))!,
    paymentStep(create(events.PaymentProcessedEventSchema, {
      orderId: ORDER,
      type: Payment.SUCCESS,
      amountCents: 9300n,
    }))!,
    approvedStep(
      create(events.OrderApprovedEventSchema, { orderId: ORDER, totalPriceCents: 9300n }),
    ),
  ];
}

Deno.test("timeline: a successful saga reads as each service's step, in words", () => {
  const steps = happy();
  assert.deepEqual(steps.map((s) => [s.service, s.kind, s.status ?? ""]), [
    ["order", "progress", "ORDER_STATUS_PROCESSING"],
    ["product", "progress", ""],
    ["order", "progress", "ORDER_STATUS_PENDING"],
    ["warehouse", "progress", ""],
    ["shipping", "progress", ""],
    ["payment", "progress", ""],
    ["order", "outcome", "ORDER_STATUS_APPROVED"],
  ]);
  assert.ok(steps.every((s) => s.orderId === ORDER));
  assert.deepEqual(steps.map((s) => describeStep(s, names)), [
    "Order placed for 2 × Teapot, 1 × Cups",
    "Priced the items: 93.00 in total",
    "Order pending: waiting for stock, a shipment and payment",
    "Reserved 2 × Teapot, 1 × Cups",
    "Allocated shipment bf556d08",
    "Took payment of 93.00",
    "Order approved",
  ]);
  assert.deepEqual(compensations(steps), [
    { done: "Stock reserved", undo: "returned", undone: false },
    { done: "Shipment allocated", undo: "released", undone: false },
    { done: "Payment taken", undo: "refunded", undone: false },
  ]);
  assert.equal(failureText(steps, names), undefined);
});

Deno.test("timeline: a failed payment says why and what was given back", () => {
  const steps = happy().slice(0, 5);
  steps.push(
    paymentStep(create(events.PaymentProcessedEventSchema, {
      orderId: ORDER,
      type: Payment.FAILED,
      amountCents: 9300n,
      failureReason: "insufficient balance",
    }))!,
    rejectedStep(create(events.OrderRejectedEventSchema, {
      orderId: ORDER,
      reason: events.OrderRejectedEvent_Reason.PAYMENT_FAILED,
    })),
    reservationStep(create(events.StockReservationEventSchema, {
      orderId: ORDER,
      type: Stock.STOCK_RETURNED,
      reservationStock: { [TEAPOT]: 2, [CUPS]: 1 },
    }))!,
  );
  assert.equal(failureText(steps, names), "Payment of 93.00 failed: insufficient balance");
  assert.equal(describeStep(steps[6]!, names), "Order rejected: the payment failed");
  assert.equal(steps[6]!.status, "ORDER_STATUS_REJECTED");
  assert.equal(steps[7]!.kind, "compensation");
  assert.equal(
    describeStep(steps[7]!, names),
    "Returned the reserved stock (2 × Teapot, 1 × Cups)",
  );
  // The shipment is not released yet: the page says it is being released.
  assert.deepEqual(compensations(steps), [
    { done: "Stock reserved", undo: "returned", undone: true },
    { done: "Shipment allocated", undo: "released", undone: false },
  ]);
  steps.push(
    allocationStep(create(events.ShipmentAllocationEventSchema, {
      orderId: ORDER,
      type: Allocation.ALLOCATION_RELEASED,
      shipmentId: SHIPMENT,
    }))!,
  );
  assert.ok(compensations(steps).every((u) => u.undone));
});

Deno.test("timeline: stock, price and shipment failures name their products", () => {
  const short = reservationStep(create(events.StockReservationEventSchema, {
    orderId: ORDER,
    type: Stock.INSUFFICIENT_STOCK,
    insufficientStock: [TEAPOT],
  }))!;
  assert.equal(short.kind, "failure");
  assert.equal(describeStep(short, names), "Not enough stock of Teapot");
  const unknown = quoteStep(create(events.ProductPriceQuoteEventSchema, {
    orderId: ORDER,
    type: Quote.UNAVAILABLE,
    unavailableProducts: [SHIPMENT],
  }))!;
  assert.equal(describeStep(unknown, names), "Could not price product bf556d08: no longer sold");
  const shipment = allocationStep(create(events.ShipmentAllocationEventSchema, {
    orderId: ORDER,
    type: Allocation.FAILED,
  }))!;
  assert.equal(shipment.kind, "failure");
  assert.deepEqual(compensations([short]), [], "nothing was taken, nothing to undo");
  const refund = refundStep(create(events.TransactionReversedEventSchema, {
    orderId: ORDER,
    amountCents: 150n,
  }));
  assert.equal(refund.kind, "compensation");
  assert.equal(describeStep(refund, names), "Refunded 1.50");
});

Deno.test("timeline: unspecified event types are no step", () => {
  assert.equal(
    quoteStep(create(events.ProductPriceQuoteEventSchema, { orderId: ORDER })),
    undefined,
  );
  assert.equal(
    reservationStep(create(events.StockReservationEventSchema, { orderId: ORDER })),
    undefined,
  );
  assert.equal(
    allocationStep(create(events.ShipmentAllocationEventSchema, { orderId: ORDER })),
    undefined,
  );
  assert.equal(
    paymentStep(create(events.PaymentProcessedEventSchema, { orderId: ORDER })),
    undefined,
  );
});

Deno.test("shortId() keeps the random end of a UUIDv7", () => {
  assert.equal(shortId(ORDER), "4d9a9e0a");
});
