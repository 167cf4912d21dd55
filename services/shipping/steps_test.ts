/**
 * Shipping's steps against its real database: events in through its reactions (requests through
 * its steps), outbox rows out. Allocating (or refusing over the limit), every release, every
 * duplicate, the compensation race (a release racing the allocation it undoes); dispatch and
 * delivery with their refusals; and a cancellation racing a dispatch, both ways: exactly one wins.
 */
import assert from "node:assert/strict";
import { connectDb, transaction } from "@stocklet/shared/db";
import { Code, ServiceError } from "@stocklet/shared/errors";
import { uuidv7 } from "@stocklet/shared/ids";
import { events, shipping } from "@stocklet/shared/proto";
import {
  only,
  orderRejected,
  paymentProcessed,
  type SagaParticipant,
  sagaParticipant,
  topicsOf,
} from "@stocklet/testing/saga";
import { COURIER_CARRIER, courierRound } from "./courier.ts";
import { shippingReactions } from "./reactions.ts";
import { deliverShipment, dispatchShipment } from "./steps.ts";

const Allocation = events.ShipmentAllocationEvent_Type;
const MAX_UNITS = 10;
const customerId = uuidv7();

async function shipmentOf(
  p: SagaParticipant,
  orderId: string,
): Promise<{ status: shipping.ShipmentStatus; items: number } | undefined> {
  const [row] = await p.sql<Array<{ status: shipping.ShipmentStatus; items: number }>>`
    select status, (select count(*)::int from shipment_items i where i.shipment_id = s.id) as items
    from shipments s where order_id = ${orderId}`;
  return row;
}

const reserved = (orderId: string, items: Record<string, number>) => ({
  revision: 1,
  type: events.StockReservationEvent_Type.STOCK_RESERVED,
  orderId,
  orderMetadata: { customerId, itemsPriceCents: 700n, totalPriceCents: 700n },
  reservationId: uuidv7(),
  reservationStock: items,
});

Deno.test("shipping steps: allocate, refuse, release, duplicates and races", async (t) => {
  const p = await sagaParticipant("shipping", shippingReactions(MAX_UNITS));
  const allocate = (orderId: string, items: Record<string, number>) =>
    p.deliver(
      "warehouse.reservation.reserved",
      events.StockReservationEventSchema,
      reserved(orderId, items),
    );
  const reject = (orderId: string) => p.deliver(...orderRejected(orderId, customerId));
  try {
    await t.step("reserved stock within the limit is allocated, once", async () => {
      const orderId = uuidv7();
      const items = { [uuidv7()]: 6, [uuidv7()]: 4 };
      const out = await allocate(orderId, items);
      const a = only(out, "shipping.shipment.allocation", events.ShipmentAllocationEventSchema);
      assert.equal(a.type, Allocation.ALLOCATED);
      assert.deepEqual(a.productQuantities, items);
      assert.equal(a.orderMetadata?.totalPriceCents, 700n, "the order's metadata travels on");
      assert.equal(a.orderMetadata?.customerId, customerId);
      assert.ok(a.shipmentId);
      assert.equal(out[0]!.key, orderId);
      assert.deepEqual(await shipmentOf(p, orderId), {
        status: shipping.ShipmentStatus.ALLOCATED,
        items: 2,
      });
      assert.deepEqual(await allocate(orderId, items), [], "a repeat allocates nothing");
    });

    await t.step("over the per-shipment limit: FAILED, nothing allocated", async () => {
      const orderId = uuidv7();
      const out = await allocate(orderId, { [uuidv7()]: MAX_UNITS + 1 });
      const a = only(
        out,
        "shipping.shipment.allocation.failed",
        events.ShipmentAllocationEventSchema,
      );
      assert.equal(a.type, Allocation.FAILED);
      assert.deepEqual(await shipmentOf(p, orderId), {
        status: shipping.ShipmentStatus.FAILED,
        items: 0,
      });
      assert.deepEqual(await allocate(orderId, { [uuidv7()]: 1 }), [], "decided once");
      assert.deepEqual(await reject(orderId), [], "nothing to release");
    });

    await t.step("a rejected order releases the allocated shipment, once", async () => {
      const orderId = uuidv7();
      const items = { [uuidv7()]: 3 };
      const allocated = only(
        await allocate(orderId, items),
        "shipping.shipment.allocation",
        events.ShipmentAllocationEventSchema,
      );
      const out = await reject(orderId);
      const r = only(out, "shipping.shipment.allocation", events.ShipmentAllocationEventSchema);
      assert.equal(r.type, Allocation.ALLOCATION_RELEASED);
      assert.equal(r.shipmentId, allocated.shipmentId);
      assert.deepEqual(r.productQuantities, items);
      assert.equal((await shipmentOf(p, orderId))?.status, shipping.ShipmentStatus.RELEASED);
      assert.deepEqual(await reject(orderId), [], "a repeat releases nothing");
    });

    await t.step("a failed payment is heard only through the order's rejection", async () => {
      const orderId = uuidv7();
      await allocate(orderId, { [uuidv7()]: 1 });
      await assert.rejects(
        p.deliver(
          ...paymentProcessed(orderId, customerId, events.PaymentProcessedEvent_Type.FAILED),
        ),
        /no reaction to payment\.processing/,
      );
      assert.equal((await shipmentOf(p, orderId))?.status, shipping.ShipmentStatus.ALLOCATED);
    });

    await t.step("an order rejected before allocation is never allocated", async () => {
      const orderId = uuidv7();
      assert.deepEqual(await reject(orderId), []);
      assert.equal((await shipmentOf(p, orderId))?.status, shipping.ShipmentStatus.CANCELLED);
      assert.deepEqual(await allocate(orderId, { [uuidv7()]: 1 }), []);
    });
    await t.step(
      "race: the release waits for the allocation it undoes, then releases it",
      async () => {
        const orderId = uuidv7();
        const allocation = p.hold(
          "warehouse.reservation.reserved",
          events.StockReservationEventSchema,
          reserved(orderId, { [uuidv7()]: 2 }),
        );
        await allocation.applied;
        const release = p.start(...orderRejected(orderId, customerId));
        await p.lockWaiters(1);
        await allocation.commit();
        await release;
        const out = await p.drain();
        assert.deepEqual(
          out.map((e) => (e.event as events.ShipmentAllocationEvent).type),
          [Allocation.ALLOCATED, Allocation.ALLOCATION_RELEASED],
          `published ${topicsOf(out)}`,
        );
        assert.equal((await shipmentOf(p, orderId))?.status, shipping.ShipmentStatus.RELEASED);
        assert.deepEqual(await reject(orderId), []);
      },
    );

    await t.step(
      "race: an allocation behind the rejection's marker allocates nothing",
      async () => {
        const orderId = uuidv7();
        const marker = p.hold(...orderRejected(orderId, customerId));
        await marker.applied;
        const allocation = p.start(
          "warehouse.reservation.reserved",
          events.StockReservationEventSchema,
          reserved(orderId, { [uuidv7()]: 2 }),
        );
        await p.lockWaiters(1);
        await marker.commit();
        await allocation;
        assert.deepEqual(await p.drain(), []);
        assert.equal((await shipmentOf(p, orderId))?.status, shipping.ShipmentStatus.CANCELLED);
      },
    );
  } finally {
    await p.close();
  }
});

const Status = shipping.ShipmentStatus;

function refused(message: RegExp) {
  return (e: unknown): boolean =>
    e instanceof ServiceError && e.code === Code.FAILED_PRECONDITION && message.test(e.message);
}

Deno.test("shipping fulfilment: dispatch, delivery, cancellation, and the cancel/dispatch race", async (t) => {
  const p = await sagaParticipant("shipping", shippingReactions(MAX_UNITS));
  const SHIP = { carrier: "DHL Express", trackingNumber: "JD014600006281" };
  /** An allocated shipment for a new order; approved (paid) unless told otherwise. */
  const allocated = async (approve = true) => {
    const orderId = uuidv7();
    const items = { [uuidv7()]: 2, [uuidv7()]: 1 };
    const a = only(
      await p.deliver(
        "warehouse.reservation.reserved",
        events.StockReservationEventSchema,
        reserved(orderId, items),
      ),
      "shipping.shipment.allocation",
      events.ShipmentAllocationEventSchema,
    );
    if (approve) {
      assert.deepEqual(
        await p.deliver("order.state.approved", events.OrderApprovedEventSchema, {
          revision: 1,
          orderId,
          customerId,
          shippingId: a.shipmentId,
          transactionId: uuidv7(),
          totalPriceCents: 700n,
        }),
        [],
        "approval only makes the shipment ready",
      );
    }
    return { orderId, shipmentId: a.shipmentId, items };
  };
  const dispatch = (id: string, d = SHIP) =>
    transaction(p.sql, "dispatch", (tx) => dispatchShipment(tx, id, d));
  const deliver = (id: string) => transaction(p.sql, "deliver", (tx) => deliverShipment(tx, id));
  const cancelling = (orderId: string) =>
    ["order.state.cancelling", events.OrderCancellingEventSchema, {
      revision: 1,
      orderId,
      customerId,
      shipmentId: "",
      transactionId: uuidv7(),
      totalPriceCents: 700n,
    }] as const;
  const statusOf = async (orderId: string) => (await shipmentOf(p, orderId))?.status;
  try {
    await t.step(
      "an approved shipment is dispatched, once; the event names carrier and stock",
      async () => {
        const s = await allocated();
        const row = await dispatch(s.shipmentId);
        assert.equal(row.status, Status.DISPATCHED);
        const out = await p.drain();
        const d = only(out, "shipping.shipment.dispatched", events.ShipmentDispatchedEventSchema);
        assert.deepEqual(
          [d.orderId, d.shipmentId, d.customerId, d.carrier, d.trackingNumber],
          [s.orderId, s.shipmentId, customerId, SHIP.carrier, SHIP.trackingNumber],
        );
        assert.deepEqual(d.productQuantities, s.items);
        assert.equal(out[0]!.key, s.orderId, "keyed by the order");
        await dispatch(s.shipmentId);
        assert.deepEqual(await p.drain(), [], "the same dispatch again changes nothing");
        await assert.rejects(
          dispatch(s.shipmentId, { carrier: "UPS", trackingNumber: "1Z999" }),
          refused(/dispatched already \(DHL Express, tracking JD014600006281\)/),
        );
        assert.deepEqual(await p.deliver(...cancelling(s.orderId)), [], "too late to cancel");
        assert.equal(await statusOf(s.orderId), Status.DISPATCHED);
      },
    );

    await t.step("a dispatched shipment is delivered, once", async () => {
      const s = await allocated();
      await assert.rejects(deliver(s.shipmentId), refused(/not dispatched yet/));
      await dispatch(s.shipmentId);
      await p.drain();
      assert.equal((await deliver(s.shipmentId)).status, Status.DELIVERED);
      const d = only(
        await p.drain(),
        "shipping.shipment.delivered",
        events.ShipmentDeliveredEventSchema,
      );
      assert.deepEqual(
        [d.orderId, d.shipmentId, d.customerId, d.carrier, d.trackingNumber],
        [s.orderId, s.shipmentId, customerId, SHIP.carrier, SHIP.trackingNumber],
      );
      await deliver(s.shipmentId);
      assert.deepEqual(await p.drain(), [], "delivering again changes nothing");
      await assert.rejects(
        dispatch(s.shipmentId, { carrier: "UPS", trackingNumber: "1Z999" }),
        refused(/dispatched already/),
      );
    });

    await t.step(
      "a shipment whose order is not approved yet, or unknown, is not dispatched",
      async () => {
        const s = await allocated(false);
        await assert.rejects(dispatch(s.shipmentId), refused(/not approved yet/));
        await assert.rejects(
          dispatch(uuidv7()),
          (e: unknown) => e instanceof ServiceError && e.code === Code.NOT_FOUND,
        );
        assert.deepEqual(await p.drain(), []);
      },
    );

    await t.step(
      "a cancellation releases an allocated shipment, once; it never leaves",
      async () => {
        const s = await allocated();
        const out = await p.deliver(...cancelling(s.orderId));
        const c = only(out, "shipping.shipment.cancelled", events.ShipmentCancelledEventSchema);
        assert.deepEqual([c.orderId, c.customerId, c.shipmentId], [
          s.orderId,
          customerId,
          s.shipmentId,
        ]);
        assert.deepEqual(c.productQuantities, s.items);
        assert.equal(await statusOf(s.orderId), Status.RELEASED);
        assert.deepEqual(
          await p.deliver(...cancelling(s.orderId)),
          [],
          "a repeat releases nothing",
        );
        await assert.rejects(dispatch(s.shipmentId), refused(/released: its order was cancelled/));
        assert.deepEqual(await p.drain(), []);
      },
    );

    await t.step(
      "race: a dispatch holding the shipment wins; the cancellation releases nothing",
      async () => {
        const s = await allocated();
        const held = p.holdTx("dispatch", (tx) => dispatchShipment(tx, s.shipmentId, SHIP));
        await held.applied; // DISPATCHED, not committed
        const cancel = p.start(...cancelling(s.orderId));
        await p.lockWaiters(1); // the cancellation waits for the shipment row
        await held.commit();
        await cancel;
        assert.deepEqual(topicsOf(await p.drain()), ["shipping.shipment.dispatched"]);
        assert.equal(await statusOf(s.orderId), Status.DISPATCHED);
      },
    );

    await t.step(
      "race: a cancellation holding the shipment wins; the dispatch is refused",
      async () => {
        const s = await allocated();
        const held = p.hold(...cancelling(s.orderId));
        await held.applied; // RELEASED, not committed
        // Its refusal is caught at once: it may come before the assertion below is reached.
        const dispatching = dispatch(s.shipmentId).then(() => undefined, (e: unknown) => e);
        await p.lockWaiters(1); // the dispatch waits for the shipment row
        await held.commit();
        const error = await dispatching;
        assert.ok(refused(/released/)(error), `dispatch ended with ${error}`);
        assert.deepEqual(topicsOf(await p.drain()), ["shipping.shipment.cancelled"]);
        assert.equal(await statusOf(s.orderId), Status.RELEASED);
      },
    );
    await t.step(
      "the courier simulator dispatches approved shipments, then delivers them",
      async () => {
        const ready = await allocated();
        const waiting = await allocated(false);
        // Earlier steps left shipments of their own: look at this step's orders only.
        type Out = Awaited<ReturnType<typeof p.drain>>;
        const ofOrder = (out: Out, topic: string) =>
          out.filter((e) =>
            e.topic === topic &&
            (e.event as unknown as { orderId: string }).orderId === ready.orderId
          );
        await courierRound(p.sql, { dispatchMs: 60_000, deliverMs: 60_000 });
        assert.deepEqual(ofOrder(await p.drain(), "shipping.shipment.dispatched"), []);
        assert.equal(await statusOf(ready.orderId), Status.ALLOCATED, "not due yet");
        assert.ok((await courierRound(p.sql, { dispatchMs: 0, deliverMs: 60_000 })) >= 1);
        const [d] = ofOrder(await p.drain(), "shipping.shipment.dispatched");
        const dispatched = d!.event as events.ShipmentDispatchedEvent;
        assert.equal(dispatched.carrier, COURIER_CARRIER);
        assert.match(dispatched.trackingNumber, /^SC-[0-9A-Z]{10}$/);
        assert.equal(await statusOf(waiting.orderId), Status.ALLOCATED, "not approved: untouched");
        assert.ok((await courierRound(p.sql, { dispatchMs: 0, deliverMs: 0 })) >= 1);
        assert.equal(ofOrder(await p.drain(), "shipping.shipment.delivered").length, 1);
        assert.equal(await statusOf(ready.orderId), Status.DELIVERED);
        await courierRound(p.sql, { dispatchMs: 0, deliverMs: 0 });
        assert.deepEqual(ofOrder(await p.drain(), "shipping.shipment.delivered"), [], "once");
      },
    );
    await t.step(
      "two replicas' couriers at once move each shipment once",
      async () => {
        await courierRound(p.sql, { dispatchMs: 0, deliverMs: 0 }); // earlier steps' leftovers
        await p.drain();
        const shipments: Array<Awaited<ReturnType<typeof allocated>>> = [];
        for (let i = 0; i < 12; i++) shipments.push(await allocated());
        const orders = new Set(shipments.map((s) => s.orderId));
        await p.drain();
        const other = connectDb(p.db.url, { max: 3 });
        try {
          const opts = { dispatchMs: 0, deliverMs: 60_000, batch: 2 };
          let moved = 0;
          for (let round = 0; round < 20 && moved < shipments.length; round++) {
            const [a, b] = await Promise.all([
              courierRound(p.sql, opts),
              courierRound(other, opts),
            ]);
            moved += a + b;
          }
          assert.equal(moved, shipments.length, "every shipment dispatched, none twice");
        } finally {
          await other.end({ timeout: 5 });
        }
        const dispatched = (await p.drain())
          .filter((e) => e.topic === "shipping.shipment.dispatched")
          .map((e) => (e.event as events.ShipmentDispatchedEvent).orderId)
          .filter((id) => orders.has(id));
        assert.equal(dispatched.length, shipments.length);
        assert.equal(new Set(dispatched).size, shipments.length, "one dispatch per shipment");
        for (const s of shipments) assert.equal(await statusOf(s.orderId), Status.DISPATCHED);
      },
    );
  } finally {
    await p.close();
  }
});
