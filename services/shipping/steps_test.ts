/**
 * Shipping's saga steps against its real database: events in through its reactions, outbox rows
 * out. Allocating (or refusing over the limit), every release, every duplicate, and the
 * compensation race (a release racing the allocation it undoes).
 */
import assert from "node:assert/strict";
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
import { shippingReactions } from "./reactions.ts";

const Allocation = events.ShipmentAllocationEvent_Type;
const Payment = events.PaymentProcessedEvent_Type;
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
  const paymentOutcome = (orderId: string, type: events.PaymentProcessedEvent_Type) =>
    p.deliver(...paymentProcessed(orderId, customerId, type));
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
      assert.deepEqual(await paymentOutcome(orderId, Payment.SUCCESS), [], "success keeps it");
    });

    await t.step("over the per-shipment limit: FAILED, nothing allocated", async () => {
      const orderId = uuidv7();
      const out = await allocate(orderId, { [uuidv7()]: MAX_UNITS + 1 });
      const a = only(out, "shipping.shipment.allocation", events.ShipmentAllocationEventSchema);
      assert.equal(a.type, Allocation.FAILED);
      assert.deepEqual(await shipmentOf(p, orderId), {
        status: shipping.ShipmentStatus.FAILED,
        items: 0,
      });
      assert.deepEqual(await allocate(orderId, { [uuidv7()]: 1 }), [], "decided once");
      assert.deepEqual(await reject(orderId), [], "nothing to release");
    });

    for (
      const [name, fail] of [
        ["a failed payment", (orderId: string) => paymentOutcome(orderId, Payment.FAILED)],
        ["a rejected order", reject],
      ] as const
    ) {
      await t.step(`${name} releases the allocated shipment, once`, async () => {
        const orderId = uuidv7();
        const items = { [uuidv7()]: 3 };
        const allocated = only(
          await allocate(orderId, items),
          "shipping.shipment.allocation",
          events.ShipmentAllocationEventSchema,
        );
        const out = await fail(orderId);
        const r = only(out, "shipping.shipment.allocation", events.ShipmentAllocationEventSchema);
        assert.equal(r.type, Allocation.ALLOCATION_RELEASED);
        assert.equal(r.shipmentId, allocated.shipmentId);
        assert.deepEqual(r.productQuantities, items);
        assert.equal((await shipmentOf(p, orderId))?.status, shipping.ShipmentStatus.RELEASED);
        assert.deepEqual(await fail(orderId), [], "a repeat releases nothing");
        assert.deepEqual(await reject(orderId), [], "nor does a later rejection");
      });
    }

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
