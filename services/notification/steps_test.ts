/**
 * The notification service's steps against its real database: user events keep its projection of
 * the customers, business events record one notification each (with its subject and facts), and
 * no redelivery or replay records a second one.
 */
import assert from "node:assert/strict";
import { uuidv7 } from "@stocklet/shared/ids";
import { events } from "@stocklet/shared/proto";
import { orderRejected, sagaParticipant, shipmentDispatched } from "@stocklet/testing/saga";
import { Kind, NotificationStatus } from "./domain.ts";
import { notificationReactions } from "./reactions.ts";

Deno.test("notification steps: the customer projection, one notification per event, replays", async (t) => {
  const p = await sagaParticipant("notification", notificationReactions());
  const customer = async (email = `ann-${uuidv7()}@example.com`) => {
    const id = uuidv7();
    await p.deliver("user.state.created", events.UserCreatedEventSchema, {
      revision: 1,
      userId: id,
      email,
      firstName: "Ann",
      lastName: "Lee",
    });
    return { id, email };
  };
  const notificationsOf = (orderId: string) =>
    p.sql<Array<{ kind: number; subject: string; facts: Record<string, string>; status: number }>>`
      select kind, subject, facts, status from notifications where order_id = ${orderId}
      order by kind`;
  const approved = (orderId: string, customerId: string) =>
    ["order.state.approved", events.OrderApprovedEventSchema, {
      revision: 1,
      orderId,
      customerId,
      transactionId: uuidv7(),
      shippingId: uuidv7(),
      totalPriceCents: 4148n,
    }] as const;
  try {
    await t.step("user events keep the customers' addresses and names", async () => {
      const c = await customer("ann@example.com");
      await p.deliver("user.state.created", events.UserCreatedEventSchema, {
        revision: 1,
        userId: c.id,
        email: "other@example.com",
        firstName: "Someone",
        lastName: "Else",
      });
      const row = async () =>
        (await p.sql<Array<{ email: string; first_name: string; deleted_at: Date | null }>>`
          select email, first_name, deleted_at from customers where id = ${c.id}`)[0];
      assert.deepEqual(
        { ...(await row())! },
        { email: "ann@example.com", first_name: "Ann", deleted_at: null },
        "a replayed creation changes nothing",
      );
      await p.deliver("user.attr.email", events.UserEmailUpdatedEventSchema, {
        revision: 1,
        userId: c.id,
        email: "ann.lee@example.com",
      });
      assert.equal((await row())!.email, "ann.lee@example.com");
      await p.deliver("user.state.deleted", events.UserDeletedEventSchema, {
        revision: 1,
        userId: c.id,
        email: "ann.lee@example.com",
      });
      assert.ok((await row())!.deleted_at);
    });

    await t.step(
      "each business event records one PENDING notification with its facts",
      async () => {
        const c = await customer();
        const orderId = uuidv7();
        await p.deliver(...approved(orderId, c.id));
        await p.deliver(...shipmentDispatched(orderId, c.id));
        await p.deliver("shipping.shipment.delivered", events.ShipmentDeliveredEventSchema, {
          revision: 1,
          shipmentId: uuidv7(),
          orderId,
          customerId: c.id,
          carrier: "DHL",
          trackingNumber: "JD0123456789",
        });
        const rows = await notificationsOf(orderId);
        assert.deepEqual(rows.map((r) => [r.kind, r.status]), [
          [Kind.ORDER_APPROVED, NotificationStatus.PENDING],
          [Kind.ORDER_SHIPPED, NotificationStatus.PENDING],
          [Kind.ORDER_DELIVERED, NotificationStatus.PENDING],
        ]);
        assert.deepEqual(rows[0]!.facts, { amountCents: "4148" });
        assert.deepEqual(rows[1]!.facts, { carrier: "DHL", trackingNumber: "JD0123456789" });
        assert.match(rows[1]!.subject, /is on its way$/);
      },
    );

    await t.step(
      "rejections and cancellations are recorded with the reason and the refund",
      async () => {
        const c = await customer();
        const rejected = uuidv7();
        await p.deliver(...orderRejected(rejected, c.id));
        assert.deepEqual((await notificationsOf(rejected)).map((r) => [r.kind, r.facts]), [
          [Kind.ORDER_REJECTED, { reason: "TIMEOUT" }],
        ]);
        const cancelled = uuidv7();
        await p.deliver("order.state.cancelled", events.OrderCancelledEventSchema, {
          revision: 1,
          orderId: cancelled,
          customerId: c.id,
          refundedCents: 4148n,
        });
        const [n] = await notificationsOf(cancelled);
        assert.deepEqual([n!.kind, n!.facts], [Kind.ORDER_CANCELLED, { amountCents: "4148" }]);
        assert.match(n!.subject, /was cancelled and 41\.48 refunded$/);
      },
    );

    await t.step("a redelivered or replayed event records nothing more", async () => {
      const c = await customer();
      const orderId = uuidv7();
      for (let i = 0; i < 3; i++) await p.deliver(...approved(orderId, c.id));
      for (let i = 0; i < 2; i++) await p.deliver(...shipmentDispatched(orderId, c.id));
      const rows = await notificationsOf(orderId);
      assert.deepEqual(rows.map((r) => r.kind), [Kind.ORDER_APPROVED, Kind.ORDER_SHIPPED]);
    });

    await t.step(
      "recording wakes the sender: the insert notifies notification_due on commit",
      async () => {
        const c = await customer();
        let woken = 0;
        const listening = await p.sql.listen("notification_due", () => woken++);
        try {
          await p.deliver(...approved(uuidv7(), c.id));
          const deadline = Date.now() + 5_000;
          while (woken === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
          assert.ok(woken >= 1, "no notification_due after the commit");
        } finally {
          await listening.unlisten();
        }
      },
    );
  } finally {
    await p.close();
  }
});
