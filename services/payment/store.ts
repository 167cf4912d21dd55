/**
 * Payment's SQL: balances, transactions and each order's payment row. Status changes are guarded
 * by the domain's transition table; a debit is one conditional update (`balance_cents >= amount`,
 * plus a CHECK), so no interleaving can overdraw a balance.
 * @module
 */
import type { Sql, Tx } from "@stocklet/shared/db";
import type { PageRequest } from "@stocklet/shared/paging";
import { type PaymentStatus, transitions } from "./domain.ts";

/** A `transactions` row. */
export interface TransactionRow {
  id: string;
  order_id: string;
  customer_id: string;
  amount_cents: bigint;
  processed_at: Date;
  reversed_at: Date | null;
}

/** An `order_payments` row. */
export interface OrderPaymentRow {
  order_id: string;
  status: PaymentStatus;
  transaction_id: string | null;
}

/** Opens a zero balance; false if the customer already has one. */
export async function openBalance(tx: Tx, customerId: string): Promise<boolean> {
  const rows = await tx`
    insert into balances (customer_id, balance_cents) values (${customerId}, 0)
    on conflict (customer_id) do nothing returning 1`;
  return rows.length > 0;
}

/** A customer's balance in cents, or undefined. */
export async function findBalance(sql: Sql | Tx, customerId: string): Promise<bigint | undefined> {
  const [row] = await sql<Array<{ balance_cents: bigint }>>`
    select balance_cents from balances where customer_id = ${customerId}`;
  return row?.balance_cents;
}

/** A customer's balance in cents, locked for this transaction; undefined when they have none. */
export async function lockBalance(tx: Tx, customerId: string): Promise<bigint | undefined> {
  const [row] = await tx<Array<{ balance_cents: bigint }>>`
    select balance_cents from balances where customer_id = ${customerId} for update`;
  return row?.balance_cents;
}

/** Adds to a balance; the new balance, or undefined when the customer has none. */
export async function credit(
  tx: Tx,
  customerId: string,
  cents: bigint,
): Promise<bigint | undefined> {
  const [row] = await tx<Array<{ balance_cents: bigint }>>`
    update balances set balance_cents = balance_cents + ${cents}, updated_at = now()
    where customer_id = ${customerId} returning balance_cents`;
  return row?.balance_cents;
}

/** Takes from a balance if it covers the amount; the new balance, or undefined (nothing changed). */
export async function debit(
  tx: Tx,
  customerId: string,
  cents: bigint,
): Promise<bigint | undefined> {
  const [row] = await tx<Array<{ balance_cents: bigint }>>`
    update balances set balance_cents = balance_cents - ${cents}, updated_at = now()
    where customer_id = ${customerId} and balance_cents >= ${cents} returning balance_cents`;
  return row?.balance_cents;
}

/** Records an order's payment row; false when the order already has one. */
export async function insertOrderPayment(
  tx: Tx,
  p: { orderId: string; status: PaymentStatus; transactionId?: string; reason?: string },
): Promise<boolean> {
  const rows = await tx`
    insert into order_payments (order_id, status, transaction_id, reason)
    values (${p.orderId}, ${p.status}, ${p.transactionId ?? null}, ${p.reason ?? null})
    on conflict (order_id) do nothing returning 1`;
  return rows.length > 0;
}

/** An order's payment row, locked for this transaction. */
export async function lockOrderPayment(
  tx: Tx,
  orderId: string,
): Promise<OrderPaymentRow | undefined> {
  const [row] = await tx<OrderPaymentRow[]>`
    select order_id, status, transaction_id from order_payments where order_id = ${orderId}
    for update`;
  return row;
}

/** Moves an order's payment to `to` if the domain allows it from its status; false otherwise. */
export async function moveOrderPayment(
  tx: Tx,
  orderId: string,
  to: PaymentStatus,
): Promise<boolean> {
  const rows = await tx`
    update order_payments set status = ${to}, updated_at = now()
    where order_id = ${orderId} and status = any(${transitions.sourcesOf(to)}::smallint[])
    returning 1`;
  return rows.length > 0;
}

/** Records a transaction. */
export async function insertTransaction(
  tx: Tx,
  t: { id: string; orderId: string; customerId: string; amountCents: bigint },
): Promise<TransactionRow> {
  const [row] = await tx<TransactionRow[]>`
    insert into transactions (id, order_id, customer_id, amount_cents)
    values (${t.id}, ${t.orderId}, ${t.customerId}, ${t.amountCents}) returning *`;
  return row!;
}

/** Marks a transaction reversed; the row, or undefined if it was already. */
export async function reverseTransaction(tx: Tx, id: string): Promise<TransactionRow | undefined> {
  const [row] = await tx<TransactionRow[]>`
    update transactions set reversed_at = now() where id = ${id} and reversed_at is null returning *`;
  return row;
}

/** A transaction by id. */
export async function findTransaction(sql: Sql, id: string): Promise<TransactionRow | undefined> {
  const [row] = await sql<TransactionRow[]>`select * from transactions where id = ${id}`;
  return row;
}

/** A page of a customer's transactions, newest first (one extra row). */
export function listTransactions(
  sql: Sql,
  customerId: string,
  page: PageRequest,
): Promise<TransactionRow[]> {
  return sql<TransactionRow[]>`
    select * from transactions
    where customer_id = ${customerId} ${page.before ? sql`and id < ${page.before}` : sql``}
    order by id desc limit ${page.size + 1}`;
}
