import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { events } from "@stocklet/shared/proto";
import type { OrderJson } from "../api.ts";
import {
  allocationStep,
  approvedStep,
  cancelledStep,
  cancellingStep,
  deliveredStep,
  dispatchedStep,
  paymentStep,
  pendingStep,
  refundStep,
  reservationStep,
  shipmentCancelledStep,
  type StoredStep,
  type TimelineStep,
} from "../timeline.ts";
import { currentStatus, refundOf, SagaParts, shipmentOf, waitingFor } from "./orders.tsx";

const ORDER = "01a22e13-0188-7000-b909-aed44d9a9e0a";
const TEAPOT = "01a22e12-cdc8-7000-92bc-923aa2551fac";
const SHIPMENT = "01a22e13-0190-7000-8000-0000bf556d08";
const names = new Map([[TEAPOT, "Teapot"]]);
const T0 = Date.parse("2026-05-01T10:00:00Z");

/** Steps as the store returns them: one second apart. */
function stored(steps: TimelineStep[]): StoredStep[] {
  return steps.map((s, i) => ({ ...s, eventId: `e${i}`, at: new Date(T0 + i * 1000) }));
}

/** An approved order's steps (the tail of its saga). */
function approved(): TimelineStep[] {
  return [
    reservationStep(create(events.StockReservationEventSchema, {
      orderId: ORDER,
      type: events.StockReservationEvent_Type.STOCK_RESERVED,
      reservationStock: { [TEAPOT]: 2 },
    }))!,
    allocationStep(create(events.ShipmentAllocationEventSchema, {
      orderId: ORDER,
      type: events.ShipmentAllocationEvent_Type.ALLOCATED,
      shipmentId: SHIPMENT,
    }))!,
    paymentStep(create(events.PaymentProcessedEventSchema, {
      orderId: ORDER,
      type: events.PaymentProcessedEvent_Type.SUCCESS,
      amountCents: 6900n,
    }))!,
    approvedStep(create(events.OrderApprovedEventSchema, {
      orderId: ORDER,
      totalPriceCents: 6900n,
    })),
  ];
}

const dispatched = () =>
  dispatchedStep(create(events.ShipmentDispatchedEventSchema, {
    orderId: ORDER,
    shipmentId: SHIPMENT,
    carrier: "DHL Express",
    trackingNumber: "JD0146",
  }));
const delivered = () =>
  deliveredStep(create(events.ShipmentDeliveredEventSchema, {
    orderId: ORDER,
    shipmentId: SHIPMENT,
    carrier: "DHL Express",
    trackingNumber: "JD0146",
  }));

function order(status: string, more: Partial<OrderJson> = {}): OrderJson {
  return {
    id: ORDER,
    status: `ORDER_STATUS_${status}`,
    customerId: "01a22e13-0000-7000-8000-000000000001",
    items: { [TEAPOT]: 2 },
    totalPriceCents: "6900",
    ...more,
  };
}

async function html(o: OrderJson, steps: StoredStep[]): Promise<string> {
  return String(await <SagaParts order={o} steps={steps} names={names} />);
}

Deno.test("order page: a shipment's events show before the order service recorded them", async () => {
  // Shipping's events reached the web front; the order service still says APPROVED.
  const steps = stored([...approved(), dispatched()]);
  const o = order("APPROVED", { shippingId: SHIPMENT });
  assert.equal(currentStatus(o, steps), "ORDER_STATUS_SHIPPED");
  assert.deepEqual(shipmentOf(o, steps), {
    shipmentId: SHIPMENT,
    carrier: "DHL Express",
    trackingNumber: "JD0146",
    shippedAt: new Date(T0 + 4000),
  });
  assert.equal(waitingFor("ORDER_STATUS_SHIPPED", steps), "the carrier to deliver it");
  const page = await html(o, steps);
  assert.match(page, /data-carrier="true">DHL Express</);
  assert.match(page, /<code>JD0146<\/code>/);
  assert.match(page, /not yet: on its way/);
  assert.match(page, /Dispatched shipment bf556d08 with DHL Express, tracking number JD0146/);

  const done = stored([...approved(), dispatched(), delivered()]);
  assert.equal(currentStatus(o, done), "ORDER_STATUS_COMPLETED");
  assert.equal(waitingFor("ORDER_STATUS_COMPLETED", done), undefined);
  assert.deepEqual(shipmentOf(o, done)?.deliveredAt, new Date(T0 + 5000));
  const page2 = await html(o, done);
  assert.match(page2, /data-status="ORDER_STATUS_COMPLETED"/);
  assert.doesNotMatch(page2, /on its way|Waiting for/);

  // The order's own record wins once it has one.
  const recorded = order("COMPLETED", {
    shippingId: SHIPMENT,
    carrier: "Royal Mail",
    trackingNumber: "RM1",
    shippedAt: "2026-05-01T09:00:00Z",
    deliveredAt: "2026-05-02T09:00:00Z",
  });
  assert.deepEqual(shipmentOf(recorded, []), {
    shipmentId: SHIPMENT,
    carrier: "Royal Mail",
    trackingNumber: "RM1",
    shippedAt: new Date("2026-05-01T09:00:00Z"),
    deliveredAt: new Date("2026-05-02T09:00:00Z"),
  });
  assert.equal(shipmentOf(order("APPROVED"), stored(approved())), undefined, "not shipped yet");
  assert.equal(
    waitingFor("ORDER_STATUS_APPROVED", stored(approved())),
    "the shipment to leave the warehouse",
  );
});

Deno.test("order page: a cancellation shows what is given back, then the refund", async () => {
  const steps = approved();
  steps.push(cancellingStep(create(events.OrderCancellingEventSchema, {
    orderId: ORDER,
    shipmentId: SHIPMENT,
    totalPriceCents: 6900n,
  })));
  const o = order("CANCELLING");
  assert.equal(waitingFor(o.status, stored(steps)), "shipping to stop the shipment");
  let page = await html(o, stored(steps));
  assert.match(page, /<h3 id="undo-h">Cancellation<\/h3>/);
  assert.match(page, /Shipment allocated: being released…/);
  assert.doesNotMatch(page, /data-refund/);

  steps.push(
    shipmentCancelledStep(create(events.ShipmentCancelledEventSchema, {
      orderId: ORDER,
      shipmentId: SHIPMENT,
      productQuantities: { [TEAPOT]: 2 },
    })),
    reservationStep(create(events.StockReservationEventSchema, {
      orderId: ORDER,
      type: events.StockReservationEvent_Type.STOCK_RETURNED,
      reservationStock: { [TEAPOT]: 2 },
    }))!,
  );
  assert.equal(waitingFor(o.status, stored(steps)), "payment to refund the money");
  steps.push(refundStep(create(events.TransactionReversedEventSchema, {
    orderId: ORDER,
    amountCents: 6900n,
  })));
  assert.equal(
    waitingFor(o.status, stored(steps)),
    "the order service to close the cancellation",
  );
  assert.equal(refundOf(o, stored(steps)), "6900", "payment's refund, before the order has it");

  steps.push(cancelledStep(create(events.OrderCancelledEventSchema, {
    orderId: ORDER,
    refundedCents: 6900n,
  })));
  const all = stored(steps);
  assert.equal(currentStatus(o, all), "ORDER_STATUS_CANCELLED");
  assert.equal(waitingFor("ORDER_STATUS_CANCELLED", all), undefined);
  page = await html(o, all);
  assert.match(page, /Stock reserved: returned ✓/);
  assert.match(page, /Shipment allocated: released ✓/);
  assert.match(page, /Payment taken: refunded ✓/);
  assert.match(
    page,
    /data-refund="true">Refunded <span class="money">69\.00<\/span> to the balance/,
  );
  assert.match(page, /Order cancelled: 69\.00 refunded/);
  assert.doesNotMatch(page, /class="why"/, "a cancellation is not a failure");
  assert.equal(refundOf(order("CANCELLED", { refundedCents: "6800" }), all), "6800");
});

Deno.test("order page: waits for the step after the furthest one done (an order priced as placed)", () => {
  const tail = approved(); // reserved, allocated, paid, approved
  const pending = pendingStep(create(events.OrderPendingEventSchema, {
    orderId: ORDER,
    totalPriceCents: 6900n,
  }));
  assert.equal(waitingFor("ORDER_STATUS_PENDING", []), "the order service");
  assert.equal(
    waitingFor("ORDER_STATUS_PENDING", stored([pending])),
    "the warehouse to reserve stock",
    "no placed or quoted step before it: priced as it was placed",
  );
  assert.equal(
    waitingFor("ORDER_STATUS_PENDING", stored([pending, tail[0]!, tail[1]!])),
    "payment to take the money",
  );
  assert.equal(
    waitingFor("ORDER_STATUS_PENDING", stored([tail[1]!])),
    "payment to take the money",
    "a later step's event before an earlier one's",
  );
});
