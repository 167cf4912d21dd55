/**
 * Payment's rules. Each order has one payment row whose status only moves along the table below:
 * an order is paid (SUCCEEDED) or refused (FAILED) once, or marked CANCELLED when it was rejected
 * before payment (so it is never paid later), and a paid order can be REFUNDED once. Money is
 * integer cents; a balance never goes below zero.
 * @module
 */
import { type StatusMachine, statusMachine } from "@stocklet/shared/status_machine";

/** The status of an order's payment row (the numbers are stored). */
export const PaymentStatus = { SUCCEEDED: 1, FAILED: 2, CANCELLED: 3, REFUNDED: 4 } as const;
/** A payment status. */
export type PaymentStatus = typeof PaymentStatus[keyof typeof PaymentStatus];

/** The moves an order's payment may make. */
export const transitions: StatusMachine<PaymentStatus> = statusMachine<PaymentStatus>({
  [PaymentStatus.SUCCEEDED]: [PaymentStatus.REFUNDED],
  [PaymentStatus.FAILED]: [],
  [PaymentStatus.CANCELLED]: [],
  [PaymentStatus.REFUNDED]: [],
});

/** Why a payment failed. */
export const INSUFFICIENT_BALANCE = "insufficient balance";

/** How paying an amount from a balance ends. */
export type PaymentDecision =
  | { status: typeof PaymentStatus.SUCCEEDED; newBalanceCents: bigint }
  | { status: typeof PaymentStatus.FAILED; reason: string };

/**
 * Pays all of an amount from a balance, or nothing: FAILED when there is no balance or it does not
 * cover the amount.
 *
 * @param balanceCents The customer's balance, undefined when they have none.
 * @example
 * ```ts
 * decidePayment(1000n, 399n); // { status: SUCCEEDED, newBalanceCents: 601n }
 * ```
 */
export function decidePayment(
  balanceCents: bigint | undefined,
  amountCents: bigint,
): PaymentDecision {
  if (balanceCents === undefined || amountCents < 0n || balanceCents < amountCents) {
    return { status: PaymentStatus.FAILED, reason: INSUFFICIENT_BALANCE };
  }
  return { status: PaymentStatus.SUCCEEDED, newBalanceCents: balanceCents - amountCents };
}
