/**
 * The warehouse's saga steps against its real database: events in through its reactions, outbox
 * rows out, stock levels checked in SQL. Reserving all or nothing, consuming at dispatch, every
 * return (a cancellation's too), every duplicate, and the compensation race (a return racing the
 * reservation it undoes).
 */
import assert from "node:assert/strict";
import { uuidv7 } from "@stocklet/shared/ids";
import { events } from "@stocklet/shared/proto";
import {
  only,
  orderRejected,
  paymentProcessed,
  type SagaParticipant,
  sagaParticipant,
  shipmentCancelled,
  shipmentDispatched,
  topicsOf,
} from "@stocklet/testing/saga";
import { warehouseReactions } from "./reactions.ts";

const Stock = events.StockReservationEvent_Type;

async function stockOf(p: SagaParticipant, productId: string): Promise<number | undefined> {
  const [row] = await p.sql<Array<{ quantity: number }>>`
    select quantity from product_stock where product_id = ${productId}`;
  return row?.quantity;
}

/** A product the warehouse knows (through `product.state.created`) with `quantity` in stock. */
async function product(p: SagaParticipant, quantity: number): Promise<string> {
  const id = uuidv7();
  await p.deliver("product.state.created", events.ProductCreatedEventSchema, { productId: id });
  await p.sql`update product_stock set quantity = ${quantity} where product_id = ${id}`;
  return id;
}

const customerId = uuidv7();

const pending = (orderId: string, items: Record<string, number>) => ({
  revision: 1,
  orderId,
  customerId,
  itemQuantities: items,
  itemsPriceCents: 500n,
  totalPriceCents: 500n,
});

Deno.test("warehouse steps: reserve, consume, return, duplicates and races", async (t) => {
  const p = await sagaParticipant("warehouse", warehouseReactions());
  const reserve = (orderId: string, items: Record<string, number>) =>
    p.deliver("order.state.pending", events.OrderPendingEventSchema, pending(orderId, items));
  const reject = (orderId: string) => p.deliver(...orderRejected(orderId, customerId));
  const dispatch = (orderId: string) => p.deliver(...shipmentDispatched(orderId, customerId));
  const cancel = (orderId: string) => p.deliver(...shipmentCancelled(orderId, customerId));
  try {
    await t.step("a new product gets a stock row at 0, once", async () => {
      const id = uuidv7();
      const out = await p.deliver("product.state.created", events.ProductCreatedEventSchema, {
        productId: id,
      });
      const created = only(out, "warehouse.stock.created", events.StockCreatedEventSchema);
      assert.deepEqual([created.productId, created.quantity], [id, 0]);
      assert.equal(await stockOf(p, id), 0);
      await p.sql`update product_stock set quantity = 7 where product_id = ${id}`;
      const again = await p.deliver("product.state.created", events.ProductCreatedEventSchema, {
        productId: id,
      });
      assert.deepEqual(again, []);
      assert.equal(await stockOf(p, id), 7, "a repeated creation does not reset the stock");
    });

    await t.step("a pending order reserves every item, once", async () => {
      const [a, b] = [await product(p, 10), await product(p, 5)];
      const orderId = uuidv7();
      const out = await reserve(orderId, { [a]: 3, [b]: 5 });
      const reserved = only(
        out,
        "warehouse.reservation.reserved",
        events.StockReservationEventSchema,
      );
      assert.equal(reserved.type, Stock.STOCK_RESERVED);
      assert.deepEqual(reserved.reservationStock, { [a]: 3, [b]: 5 });
      assert.deepEqual(reserved.orderMetadata, {
        $typeName: "stocklet.events.v1.OrderMetadata",
        customerId,
        itemsPriceCents: 500n,
        totalPriceCents: 500n,
      });
      assert.ok(reserved.reservationId);
      assert.deepEqual([await stockOf(p, a), await stockOf(p, b)], [7, 0]);
      assert.deepEqual(await reserve(orderId, { [a]: 3, [b]: 5 }), [], "a repeat reserves nothing");
      assert.deepEqual([await stockOf(p, a), await stockOf(p, b)], [7, 0]);
    });

    await t.step("short of one product: nothing is reserved, the shortage is named", async () => {
      const [a, b] = [await product(p, 10), await product(p, 1)];
      const orderId = uuidv7();
      const out = await reserve(orderId, { [a]: 2, [b]: 2 });
      const failed = only(out, "warehouse.reservation.failed", events.StockReservationEventSchema);
      assert.equal(failed.type, Stock.INSUFFICIENT_STOCK);
      assert.deepEqual(failed.insufficientStock, [b]);
      assert.deepEqual([await stockOf(p, a), await stockOf(p, b)], [10, 1]);
      assert.deepEqual(await reserve(orderId, { [a]: 2, [b]: 1 }), [], "decided once");
      assert.deepEqual(await reject(orderId), [], "nothing to return");
      assert.deepEqual([await stockOf(p, a), await stockOf(p, b)], [10, 1]);
    });

    await t.step(
      "a dispatched order's reservation is consumed, once",
      async () => {
        const a = await product(p, 10);
        const orderId = uuidv7();
        const reserved = only(
          await reserve(orderId, { [a]: 4 }),
          "warehouse.reservation.reserved",
          events.StockReservationEventSchema,
        );
        const out = await dispatch(orderId);
        assert.deepEqual(topicsOf(out), ["warehouse.reservation.consumed"]);
        const consumed = only(
          out,
          "warehouse.reservation.consumed",
          events.StockReservationEventSchema,
        );
        assert.equal(consumed.reservationId, reserved.reservationId);
        assert.deepEqual(consumed.reservationStock, { [a]: 4 });
        assert.equal(await stockOf(p, a), 6);
        assert.deepEqual(await dispatch(orderId), [], "a repeat consumes nothing");
        assert.deepEqual(await cancel(orderId), [], "consumed stock never comes back");
        assert.deepEqual(await reject(orderId), []);
        assert.equal(await stockOf(p, a), 6);
      },
    );

    for (
      const [name, fail] of [
        ["a rejected order", reject],
        ["a cancellation that released the shipment", cancel],
      ] as const
    ) {
      await t.step(`${name} returns the reserved stock, once`, async () => {
        const a = await product(p, 10);
        const orderId = uuidv7();
        await reserve(orderId, { [a]: 4 });
        assert.equal(await stockOf(p, a), 6);
        const out = await fail(orderId);
        const returned = only(
          out,
          "warehouse.reservation.returned",
          events.StockReservationEventSchema,
        );
        assert.equal(returned.type, Stock.STOCK_RETURNED);
        assert.deepEqual(returned.reservationStock, { [a]: 4 });
        assert.equal(await stockOf(p, a), 10);
        assert.deepEqual(await fail(orderId), [], "a repeat returns nothing");
        assert.deepEqual(await reject(orderId), [], "nor does a later rejection");
        assert.deepEqual(await dispatch(orderId), [], "nor is it consumed");
        assert.equal(await stockOf(p, a), 10);
      });
    }

    await t.step(
      "a failed allocation or payment is heard only through the order's rejection",
      async () => {
        const a = await product(p, 10);
        const orderId = uuidv7();
        await reserve(orderId, { [a]: 4 });
        await assert.rejects(
          p.deliver(
            ...paymentProcessed(orderId, customerId, events.PaymentProcessedEvent_Type.FAILED),
          ),
          /no reaction to payment\.processing/,
        );
        await assert.rejects(
          p.deliver("shipping.shipment.allocation", events.ShipmentAllocationEventSchema, {
            revision: 1,
            type: events.ShipmentAllocationEvent_Type.FAILED,
            orderId,
          }),
          /no reaction to shipping\.shipment\.allocation/,
        );
        assert.equal(await stockOf(p, a), 6, "still reserved");
      },
    );

    await t.step("an order rejected before its reservation is never reserved", async () => {
      const a = await product(p, 10);
      const orderId = uuidv7();
      assert.deepEqual(await reject(orderId), []);
      assert.deepEqual(await reserve(orderId, { [a]: 4 }), []);
      assert.equal(await stockOf(p, a), 10);
    });
    await t.step(
      "race: the return waits for the reservation it undoes, then returns it",
      async () => {
        const a = await product(p, 10);
        const orderId = uuidv7();
        const reservation = p.hold(
          "order.state.pending",
          events.OrderPendingEventSchema,
          pending(orderId, { [a]: 4 }),
        );
        await reservation.applied;
        const giveBack = p.start(...orderRejected(orderId, customerId));
        await p.lockWaiters(1);
        await reservation.commit();
        await giveBack;
        const out = await p.drain();
        assert.deepEqual(topicsOf(out), [
          "warehouse.reservation.reserved",
          "warehouse.reservation.returned",
        ]);
        assert.equal(await stockOf(p, a), 10, "the stock came back exactly once");
        assert.deepEqual(await reject(orderId), []);
        assert.equal(await stockOf(p, a), 10);
      },
    );
    await t.step("race: a reservation behind the rejection's marker takes nothing", async () => {
      const a = await product(p, 10);
      const orderId = uuidv7();
      const marker = p.hold(...orderRejected(orderId, customerId));
      await marker.applied;
      const reservation = p.start(
        "order.state.pending",
        events.OrderPendingEventSchema,
        pending(orderId, { [a]: 4 }),
      );
      await p.lockWaiters(1);
      await marker.commit();
      await reservation;
      assert.deepEqual(await p.drain(), []);
      assert.equal(await stockOf(p, a), 10);
    });
  } finally {
    await p.close();
  }
});
