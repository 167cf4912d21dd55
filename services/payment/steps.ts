/**
 * Payment's saga steps. An allocated shipment is paid from the customer's balance — all of it, or
 * nothing with a FAILED outcome (the balance untouched, no transaction). A rejected order is
 * refunded if it was paid (a timeout can race the payment), or marked so it is never paid later.
 * @module
 */
import type { Tx } from "@stocklet/shared/db";
import { uuidv7 } from "@stocklet/shared/ids";
import { events } from "@stocklet/shared/proto";
import {
  credit,
  debit,
  insertOrderPayment,
  insertTransaction,
  lockOrderPayment,
  openBalance,
  PaymentStatus,
  reverseTransaction,
  setOrderPaymentStatus,
} from "./store.ts";

const Type = events.PaymentProcessedEvent_Type;

/** A new user gets a zero balance (`payment.balance.created`). */
export async function openCustomerBalance(tx: Tx, customerId: string): Promise<void> {
  if (!(await openBalance(tx, customerId))) return;
  tx.publish("payment.balance.created", customerId, events.BalanceCreatedEventSchema, {
    revision: 1,
    customerId,
    balanceCents: 0n,
  });
}

/** An allocated shipment: debit the order's total, or fail without touching anything. */
export async function payForOrder(tx: Tx, e: events.ShipmentAllocationEvent): Promise<void> {
  const customerId = e.orderMetadata?.customerId ?? "";
  const amount = e.orderMetadata?.totalPriceCents ?? 0n;
  // Claim the order's one payment row first: if it exists, the payment was decided already (or the
  // order was rejected first) and nothing happens. A concurrent refund waits on this row.
  const claimed = await insertOrderPayment(tx, {
    orderId: e.orderId,
    status: PaymentStatus.FAILED,
    reason: "insufficient balance",
  });
  if (!claimed) return;
  const base = {
    revision: 1,
    orderId: e.orderId,
    customerId,
    amountCents: amount,
    shipmentId: e.shipmentId,
  };
  const newBalance = customerId ? await debit(tx, customerId, amount) : undefined;
  if (newBalance === undefined) {
    tx.publish("payment.processing", e.orderId, events.PaymentProcessedEventSchema, {
      ...base,
      type: Type.FAILED,
      failureReason: "insufficient balance",
    });
    return;
  }
  const t = await insertTransaction(tx, {
    id: uuidv7(),
    orderId: e.orderId,
    customerId,
    amountCents: amount,
  });
  await setOrderPaymentStatus(tx, e.orderId, PaymentStatus.SUCCEEDED, t.id);
  tx.publish("payment.balance.debited", customerId, events.BalanceDebitedEventSchema, {
    revision: 1,
    customerId,
    amountCents: amount,
    newBalanceCents: newBalance,
  });
  tx.publish("payment.transaction.created", e.orderId, events.TransactionLoggedEventSchema, {
    revision: 1,
    transactionId: t.id,
    amountCents: amount,
    orderId: e.orderId,
    customerId,
  });
  tx.publish("payment.processing", e.orderId, events.PaymentProcessedEventSchema, {
    ...base,
    type: Type.SUCCESS,
    transactionId: t.id,
  });
}

/** A rejected order: refund it if it was paid; otherwise make sure it is never paid. */
export async function cancelOrderPayment(tx: Tx, orderId: string): Promise<void> {
  const p = await lockOrderPayment(tx, orderId);
  if (!p) {
    await insertOrderPayment(tx, {
      orderId,
      status: PaymentStatus.CANCELLED,
      reason: "order rejected",
    });
    return;
  }
  if (p.status !== PaymentStatus.SUCCEEDED || !p.transaction_id) return;
  const t = await reverseTransaction(tx, p.transaction_id);
  await setOrderPaymentStatus(tx, orderId, PaymentStatus.REFUNDED);
  if (!t) return;
  const newBalance = await credit(tx, t.customer_id, t.amount_cents);
  tx.publish("payment.transaction.reversed", orderId, events.TransactionReversedEventSchema, {
    revision: 1,
    transactionId: t.id,
    amountCents: t.amount_cents,
    orderId,
    customerId: t.customer_id,
  });
  tx.publish("payment.balance.credited", t.customer_id, events.BalanceCreditedEventSchema, {
    revision: 1,
    customerId: t.customer_id,
    amountCents: t.amount_cents,
    newBalanceCents: newBalance ?? 0n,
  });
}
