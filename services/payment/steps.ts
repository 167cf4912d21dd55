/**
 * Payment's saga steps, each a function of an event and the transaction it runs in. An allocated
 * shipment is paid from the customer's balance — all of it, or nothing with a FAILED outcome (the
 * balance untouched, no transaction). A rejected order is refunded if it was paid (a timeout can
 * race the payment), or marked so that it is never paid later; so is a cancelled one, once its
 * shipment was released.
 * @module
 */
import { claimRow } from "@stocklet/shared/claim";
import type { Tx } from "@stocklet/shared/db";
import { uuidv7 } from "@stocklet/shared/ids";
import { events } from "@stocklet/shared/proto";
import { decidePayment, PaymentStatus, transitions } from "./domain.ts";
import {
  credit,
  debit,
  insertOrderPayment,
  insertTransaction,
  lockBalance,
  lockOrderPayment,
  moveOrderPayment,
  openBalance,
  reverseTransaction,
} from "./store.ts";

const Type = events.PaymentProcessedEvent_Type;

/** `user.state.created`: the new customer gets a zero balance (`payment.balance.created`). */
export async function openCustomerBalance(tx: Tx, e: events.UserCreatedEvent): Promise<void> {
  if (!(await openBalance(tx, e.userId))) return;
  tx.publish("payment.balance.created", e.userId, events.BalanceCreatedEventSchema, {
    revision: 1,
    customerId: e.userId,
    balanceCents: 0n,
  });
}

/**
 * Adds to a customer's balance and publishes `payment.balance.credited` (an admin's credit or a
 * refund). Returns the new balance, or undefined (nothing published) when there is no balance.
 */
export async function creditBalance(
  tx: Tx,
  customerId: string,
  amountCents: bigint,
): Promise<bigint | undefined> {
  const balance = await credit(tx, customerId, amountCents);
  if (balance === undefined) return undefined;
  tx.publish("payment.balance.credited", customerId, events.BalanceCreditedEventSchema, {
    revision: 1,
    customerId,
    amountCents,
    newBalanceCents: balance,
  });
  return balance;
}

/**
 * `shipping.shipment.allocation` ALLOCATED: debit the order's total and publish SUCCESS (with the
 * transaction and the amount), or FAILED without touching anything. Decided once per order.
 */
export async function payForOrder(tx: Tx, e: events.ShipmentAllocationEvent): Promise<void> {
  const customerId = e.orderMetadata?.customerId ?? "";
  const amountCents = e.orderMetadata?.totalPriceCents ?? 0n;
  const balance = customerId ? await lockBalance(tx, customerId) : undefined;
  const decision = decidePayment(balance, amountCents);
  const transactionId = uuidv7();
  // The order's one payment row decides: if it exists, the payment was decided already or the
  // order was rejected first (a CANCELLED marker), and nothing happens. A rejection racing this
  // step waits for its commit, then refunds what it did.
  const claimed = await insertOrderPayment(tx, {
    orderId: e.orderId,
    status: decision.status,
    ...(decision.status === PaymentStatus.SUCCEEDED ? { transactionId } : {}),
    ...(decision.status === PaymentStatus.FAILED ? { reason: decision.reason } : {}),
  });
  if (!claimed) return;
  const outcome = {
    revision: 1,
    orderId: e.orderId,
    customerId,
    amountCents,
    shipmentId: e.shipmentId,
  };
  if (decision.status === PaymentStatus.FAILED) {
    tx.publish("payment.processing", e.orderId, events.PaymentProcessedEventSchema, {
      ...outcome,
      type: Type.FAILED,
      failureReason: decision.reason,
    });
    return;
  }
  // Both statements travel together (one round trip): neither needs the other's answer.
  const [newBalance] = await Promise.all([
    debit(tx, customerId, amountCents),
    insertTransaction(tx, { id: transactionId, orderId: e.orderId, customerId, amountCents }),
  ]);
  if (newBalance !== decision.newBalanceCents) {
    throw new Error(`balance of ${customerId} changed under its lock`);
  }
  // One event for the one fact: the SUCCESS outcome carries the transaction, the customer and the
  // amount debited (separate "balance debited" and "transaction logged" events would say the same
  // again and cost the relay two more records per order).
  tx.publish("payment.processing", e.orderId, events.PaymentProcessedEventSchema, {
    ...outcome,
    type: Type.SUCCESS,
    transactionId,
  });
}

/** The order an event concerns. */
export interface OrderRef {
  orderId: string;
  customerId: string;
}

/**
 * `order.state.rejected`, or `shipping.shipment.cancelled` (a cancellation that won against
 * dispatch): refund the order if it was paid (`payment.transaction.reversed`, and the credit);
 * otherwise make sure it never is. Both are decided by the order's payment row: claimed here with
 * a CANCELLED marker when there is none (a later payment finds it and does nothing), or, when the
 * payment step got there first (even while this ran), locked and read back.
 */
export async function refundOrder(tx: Tx, e: OrderRef): Promise<void> {
  const claim = await claimRow(
    () =>
      insertOrderPayment(tx, {
        orderId: e.orderId,
        status: PaymentStatus.CANCELLED,
        reason: "order rejected or cancelled",
      }),
    () => lockOrderPayment(tx, e.orderId),
  );
  if (claim.claimed) return;
  const p = claim.current;
  if (!transitions.canMove(p.status, PaymentStatus.REFUNDED) || !p.transaction_id) return;
  await moveOrderPayment(tx, e.orderId, PaymentStatus.REFUNDED);
  const t = await reverseTransaction(tx, p.transaction_id);
  if (!t) return;
  tx.publish("payment.transaction.reversed", e.orderId, events.TransactionReversedEventSchema, {
    revision: 1,
    transactionId: t.id,
    amountCents: t.amount_cents,
    orderId: e.orderId,
    customerId: t.customer_id,
  });
  await creditBalance(tx, t.customer_id, t.amount_cents);
}
