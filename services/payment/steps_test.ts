/**
 * Payment's saga steps against its real database: events in through its reactions, outbox rows
 * out, balances and transactions checked in SQL. Every compensation, every duplicate, and the
 * compensation race (a refund racing the payment it undoes) driven deterministically.
 */
import assert from "node:assert/strict";
import { uuidv7 } from "@stocklet/shared/ids";
import { events } from "@stocklet/shared/proto";
import { restApp } from "@stocklet/shared/server";
import {
  only,
  orderRejected,
  type SagaParticipant,
  sagaParticipant,
  shipmentCancelled,
  topicsOf,
} from "@stocklet/testing/saga";
import { testKeys } from "@stocklet/testing/tokens";
import { paymentReactions } from "./reactions.ts";
import { paymentRpc } from "./rpc.ts";

const Allocation = events.ShipmentAllocationEvent_Type;
const Payment = events.PaymentProcessedEvent_Type;

async function balanceOf(p: SagaParticipant, customerId: string): Promise<bigint | undefined> {
  const [row] = await p.sql<Array<{ balance_cents: bigint }>>`
    select balance_cents from balances where customer_id = ${customerId}`;
  return row?.balance_cents;
}

/** A customer with a balance of `cents`: opened by `user.state.created`, credited by an admin. */
async function customer(
  p: SagaParticipant,
  credit: (customerId: string, cents: bigint) => Promise<void>,
  cents: bigint,
): Promise<string> {
  const id = uuidv7();
  await p.deliver("user.state.created", events.UserCreatedEventSchema, { userId: id });
  if (cents > 0n) await credit(id, cents);
  await p.drain();
  return id;
}

function allocated(orderId: string, customerId: string, totalPriceCents: bigint) {
  return {
    revision: 1,
    type: Allocation.ALLOCATED,
    orderId,
    orderMetadata: { customerId, itemsPriceCents: totalPriceCents, totalPriceCents },
    shipmentId: uuidv7(),
    productQuantities: { [uuidv7()]: 1 },
  };
}

Deno.test("payment steps: balances, payments, refunds, duplicates and races", async (t) => {
  const p = await sagaParticipant("payment", paymentReactions());
  const keys = await testKeys();
  const app = restApp({ bindings: [paymentRpc(p.sql)], verifier: keys.verifier });
  const admin = await keys.sign({ sub: uuidv7(), roles: ["admin"] });
  const credit = async (customerId: string, cents: bigint): Promise<void> => {
    const res = await app.request(`/v1/payment/balance/${customerId}/credit`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      body: JSON.stringify({ amount_cents: String(cents) }),
    });
    assert.equal(res.status, 200, await res.text());
  };
  const pay = (orderId: string, customerId: string, cents: bigint) =>
    p.deliver(
      "shipping.shipment.allocation",
      events.ShipmentAllocationEventSchema,
      allocated(orderId, customerId, cents),
    );
  const reject = (orderId: string, customerId: string) =>
    p.deliver(...orderRejected(orderId, customerId));

  try {
    await t.step("a new user gets a zero balance, once", async () => {
      const id = uuidv7();
      const out = await p.deliver("user.state.created", events.UserCreatedEventSchema, {
        userId: id,
      });
      const created = only(out, "payment.balance.created", events.BalanceCreatedEventSchema);
      assert.equal(created.customerId, id);
      assert.equal(created.balanceCents, 0n);
      assert.equal(await balanceOf(p, id), 0n);
      const again = await p.deliver("user.state.created", events.UserCreatedEventSchema, {
        userId: id,
      });
      assert.deepEqual(again, []);
    });

    await t.step("an admin credit publishes payment.balance.credited", async () => {
      const id = await customer(p, credit, 0n);
      await credit(id, 250n);
      const out = await p.drain();
      const credited = only(out, "payment.balance.credited", events.BalanceCreditedEventSchema);
      assert.deepEqual(
        [credited.customerId, credited.amountCents, credited.newBalanceCents],
        [id, 250n, 250n],
      );
    });

    await t.step(
      "an allocated shipment is paid: debit, transaction, one SUCCESS event; once",
      async () => {
        const c = await customer(p, credit, 1000n);
        const orderId = uuidv7();
        const out = await pay(orderId, c, 399n);
        assert.deepEqual(topicsOf(out), ["payment.processing"]);
        const paid = only(out, "payment.processing", events.PaymentProcessedEventSchema);
        assert.equal(paid.type, Payment.SUCCESS);
        assert.equal(paid.amountCents, 399n);
        assert.equal(paid.customerId, c);
        const [t] = await p.sql<{ id: string; amount_cents: bigint }[]>`
        select id, amount_cents from transactions where order_id = ${orderId}`;
        assert.deepEqual([paid.transactionId, t?.amount_cents], [t?.id, 399n]);
        assert.equal(out.find((e) => e.topic === "payment.processing")!.key, orderId);
        assert.equal(await balanceOf(p, c), 601n);

        assert.deepEqual(await pay(orderId, c, 399n), [], "a repeated allocation pays nothing");
        assert.equal(await balanceOf(p, c), 601n);
      },
    );

    await t.step("short of balance: FAILED, balance untouched, no transaction", async () => {
      const c = await customer(p, credit, 100n);
      const orderId = uuidv7();
      const out = await pay(orderId, c, 101n);
      const failed = only(out, "payment.processing", events.PaymentProcessedEventSchema);
      assert.equal(failed.type, Payment.FAILED);
      assert.equal(failed.failureReason, "insufficient balance");
      assert.deepEqual(topicsOf(out), ["payment.processing"]);
      assert.equal(await balanceOf(p, c), 100n);
      assert.equal((await p.sql`select 1 from transactions where order_id = ${orderId}`).length, 0);
      assert.deepEqual(await pay(orderId, c, 101n), [], "a repeated allocation decides nothing");
      assert.deepEqual(await reject(orderId, c), [], "nothing to refund");
      assert.equal(await balanceOf(p, c), 100n);
    });

    await t.step("only ALLOCATED is paid for", async () => {
      const c = await customer(p, credit, 1000n);
      for (const type of [Allocation.FAILED, Allocation.ALLOCATION_RELEASED]) {
        const out = await p.deliver(
          "shipping.shipment.allocation",
          events.ShipmentAllocationEventSchema,
          { ...allocated(uuidv7(), c, 10n), type },
        );
        assert.deepEqual(out, []);
      }
      assert.equal(await balanceOf(p, c), 1000n);
    });

    await t.step("a rejected paid order is refunded, once", async () => {
      const c = await customer(p, credit, 1000n);
      const orderId = uuidv7();
      const paid = only(
        await pay(orderId, c, 300n),
        "payment.processing",
        events.PaymentProcessedEventSchema,
      );
      const out = await reject(orderId, c);
      assert.deepEqual(topicsOf(out), ["payment.transaction.reversed", "payment.balance.credited"]);
      const reversed = only(
        out,
        "payment.transaction.reversed",
        events.TransactionReversedEventSchema,
      );
      assert.equal(reversed.transactionId, paid.transactionId);
      assert.equal(reversed.amountCents, 300n);
      const credited = only(out, "payment.balance.credited", events.BalanceCreditedEventSchema);
      assert.deepEqual([credited.amountCents, credited.newBalanceCents], [300n, 1000n]);
      assert.equal(await balanceOf(p, c), 1000n);
      const [t1] = await p.sql<Array<{ reversed_at: Date | null }>>`
        select reversed_at from transactions where order_id = ${orderId}`;
      assert.ok(t1!.reversed_at, "the transaction is marked reversed");

      assert.deepEqual(await reject(orderId, c), [], "a repeated rejection refunds nothing");
      assert.deepEqual(await pay(orderId, c, 300n), [], "nor does a late allocation pay again");
      assert.equal(await balanceOf(p, c), 1000n);
    });

    await t.step(
      "a cancellation that released the shipment refunds the payment, once",
      async () => {
        const c = await customer(p, credit, 1000n);
        const orderId = uuidv7();
        const paid = only(
          await pay(orderId, c, 420n),
          "payment.processing",
          events.PaymentProcessedEventSchema,
        );
        assert.equal(await balanceOf(p, c), 580n);
        const out = await p.deliver(...shipmentCancelled(orderId, c));
        assert.deepEqual(topicsOf(out), [
          "payment.transaction.reversed",
          "payment.balance.credited",
        ]);
        const reversed = only(
          out,
          "payment.transaction.reversed",
          events.TransactionReversedEventSchema,
        );
        assert.deepEqual(
          [reversed.transactionId, reversed.amountCents, reversed.orderId, reversed.customerId],
          [paid.transactionId, 420n, orderId, c],
        );
        assert.equal(await balanceOf(p, c), 1000n, "refunded to the cent");
        assert.deepEqual(await p.deliver(...shipmentCancelled(orderId, c)), [], "once");
        assert.deepEqual(await reject(orderId, c), [], "a later rejection refunds nothing more");
        assert.equal(await balanceOf(p, c), 1000n);
      },
    );

    await t.step("an order rejected before payment is never paid", async () => {
      const c = await customer(p, credit, 1000n);
      const orderId = uuidv7();
      assert.deepEqual(await reject(orderId, c), []);
      assert.deepEqual(await pay(orderId, c, 300n), []);
      assert.equal(await balanceOf(p, c), 1000n);
    });
    await t.step("race: the refund waits for the payment it undoes, then refunds it", async () => {
      const c = await customer(p, credit, 1000n);
      const orderId = uuidv7();
      const payment = p.hold(
        "shipping.shipment.allocation",
        events.ShipmentAllocationEventSchema,
        allocated(orderId, c, 400n),
      );
      await payment.applied; // paid, not committed
      const refund = p.start(...orderRejected(orderId, c));
      await p.lockWaiters(1); // the rejection is blocked on the payment's row
      await payment.commit();
      await refund;
      const out = await p.drain();
      const paid = out.filter((e) => e.topic === "payment.processing");
      assert.equal(paid.length, 1);
      assert.equal(out.filter((e) => e.topic === "payment.balance.credited").length, 1);
      assert.equal(out.filter((e) => e.topic === "payment.transaction.reversed").length, 1);
      assert.equal(await balanceOf(p, c), 1000n, "the debit was refunded exactly once");
      assert.deepEqual(await reject(orderId, c), []);
      assert.equal(await balanceOf(p, c), 1000n);
    });

    await t.step("race: a payment behind the rejection's marker pays nothing", async () => {
      const c = await customer(p, credit, 1000n);
      const orderId = uuidv7();
      const marker = p.hold(...orderRejected(orderId, c));
      await marker.applied;
      const payment = p.start(
        "shipping.shipment.allocation",
        events.ShipmentAllocationEventSchema,
        allocated(orderId, c, 400n),
      );
      await p.lockWaiters(1);
      await marker.commit();
      await payment;
      assert.deepEqual(await p.drain(), []);
      assert.equal(await balanceOf(p, c), 1000n);
    });
  } finally {
    await p.close();
  }
});
