import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { events } from "@stocklet/shared/proto";
import {
  allocationStep,
  approvedStep,
  cancelledStep,
  cancellingStep,
  compensations,
  deliveredStep,
  describeStep,
  dispatchedStep,
  failureText,
  paymentStep,
  pendingStep,
  placedStep,
  quoteStep,
  refundStep,
  rejectedStep,
  reservationStep,
  shipmentCancelledStep,
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
    "Order pending at 93.00: waiting for stock, a shipment and payment",
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

Deno.test("timeline: dispatch and delivery name the carrier and move the order on", () => {
  const dispatched = dispatchedStep(create(events.ShipmentDispatchedEventSchema, {
    orderId: ORDER,
    shipmentId: SHIPMENT,
    productQuantities: { [TEAPOT]: 2 },
    carrier: "DHL Express",
    trackingNumber: "JD0146",
  }));
  assert.deepEqual(
    [dispatched.service, dispatched.kind, dispatched.status],
    ["shipping", "progress", "ORDER_STATUS_SHIPPED"],
  );
  assert.deepEqual(dispatched.detail, {
    shipmentId: SHIPMENT,
    items: { [TEAPOT]: 2 },
    carrier: "DHL Express",
    trackingNumber: "JD0146",
  });
  assert.equal(
    describeStep(dispatched, names),
    "Dispatched shipment bf556d08 with DHL Express, tracking number JD0146",
  );
  const delivered = deliveredStep(create(events.ShipmentDeliveredEventSchema, {
    orderId: ORDER,
    shipmentId: SHIPMENT,
    carrier: "DHL Express",
    trackingNumber: "JD0146",
  }));
  assert.deepEqual(
    [delivered.service, delivered.kind, delivered.status],
    ["shipping", "outcome", "ORDER_STATUS_COMPLETED"],
  );
  assert.equal(
    describeStep(delivered, names),
    "Delivered shipment bf556d08 by DHL Express, tracking number JD0146",
  );
  // An event without the carrier's details still reads as a sentence.
  const bare = deliveredStep(create(events.ShipmentDeliveredEventSchema, {
    orderId: ORDER,
    shipmentId: SHIPMENT,
  }));
  assert.deepEqual(bare.detail, { shipmentId: SHIPMENT });
  assert.equal(describeStep(bare, names), "Delivered shipment bf556d08");
});

Deno.test("timeline: a cancellation says what was stopped, returned and refunded", () => {
  const steps = happy();
  steps.push(
    cancellingStep(create(events.OrderCancellingEventSchema, {
      orderId: ORDER,
      shipmentId: SHIPMENT,
      totalPriceCents: 9300n,
    })),
    shipmentCancelledStep(create(events.ShipmentCancelledEventSchema, {
      orderId: ORDER,
      shipmentId: SHIPMENT,
      productQuantities: { [TEAPOT]: 2, [CUPS]: 1 },
    })),
  );
  const [cancelling, released] = steps.slice(-2) as [TimelineStep, TimelineStep];
  assert.deepEqual(
    [cancelling.service, cancelling.kind, cancelling.status],
    ["order", "progress", "ORDER_STATUS_CANCELLING"],
  );
  assert.equal(
    describeStep(cancelling, names),
    "Cancellation asked for: the shipment is to be stopped, the stock returned and 93.00 refunded",
  );
  assert.deepEqual([released.service, released.kind], ["shipping", "compensation"]);
  assert.equal(describeStep(released, names), "Released shipment bf556d08: stopped before it left");
  // The shipment is released; the stock and the money are on their way back.
  assert.deepEqual(compensations(steps), [
    { done: "Stock reserved", undo: "returned", undone: false },
    { done: "Shipment allocated", undo: "released", undone: true },
    { done: "Payment taken", undo: "refunded", undone: false },
  ]);
  steps.push(
    reservationStep(create(events.StockReservationEventSchema, {
      orderId: ORDER,
      type: Stock.STOCK_RETURNED,
      reservationStock: { [TEAPOT]: 2, [CUPS]: 1 },
    }))!,
    refundStep(
      create(events.TransactionReversedEventSchema, { orderId: ORDER, amountCents: 9300n }),
    ),
    cancelledStep(create(events.OrderCancelledEventSchema, {
      orderId: ORDER,
      refundedCents: 9300n,
    })),
  );
  const cancelled = steps.at(-1)!;
  assert.deepEqual(
    [cancelled.service, cancelled.kind, cancelled.status, cancelled.detail.amountCents],
    ["order", "outcome", "ORDER_STATUS_CANCELLED", "9300"],
  );
  assert.equal(describeStep(cancelled, names), "Order cancelled: 93.00 refunded");
  assert.ok(compensations(steps).every((u) => u.undone));
  assert.equal(failureText(steps, names), undefined, "a cancellation is no failure");
  // No shipment had been allocated: nothing to stop, said so.
  const none = shipmentCancelledStep(create(events.ShipmentCancelledEventSchema, {
    orderId: ORDER,
  }));
  assert.equal(describeStep(none, names), "No shipment to stop");
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
