/**
 * The notification service's SQL: its projection of the customers, and the notifications with
 * their delivery bookkeeping. A notification is recorded once per (kind, order) whatever happens
 * to its event; senders take due ones with a lease (`for update skip locked`), so replicas share
 * the work and a sender that dies mid-send leaves its rows to the others once the lease ends.
 * @module
 */
import type { Sql, Tx } from "@stocklet/shared/db";
import type { PageRequest } from "@stocklet/shared/paging";
import { type Facts, type Kind, NotificationStatus, transitions } from "./domain.ts";

/** A `notifications` row. */
export interface NotificationRow {
  id: string;
  kind: Kind;
  order_id: string;
  customer_id: string;
  subject: string;
  facts: Facts;
  status: NotificationStatus;
  attempts: number;
  next_attempt_at: Date;
  lease_until: Date | null;
  last_error: string | null;
  recipient: string | null;
  message_id: string | null;
  created_at: Date;
  sent_at: Date | null;
}

/** A `customers` row. */
export interface CustomerRow {
  id: string;
  email: string;
  first_name: string;
  last_name: string;
  deleted_at: Date | null;
}

/** Records a customer as the user service announced them; false when known already. */
export async function insertCustomer(
  tx: Tx,
  c: { id: string; email: string; firstName: string; lastName: string },
): Promise<boolean> {
  const rows = await tx`
    insert into customers (id, email, first_name, last_name)
    values (${c.id}, ${c.email}, ${c.firstName}, ${c.lastName})
    on conflict (id) do nothing returning 1`;
  return rows.length > 0;
}

/**
 * A customer's new address; a customer not seen yet is recorded with it (their name follows with
 * their creation event, which may come later: the topics are not ordered with each other).
 */
export async function updateCustomerEmail(tx: Tx, id: string, email: string): Promise<void> {
  await tx`
    insert into customers (id, email) values (${id}, ${email})
    on conflict (id) do update set email = excluded.email, updated_at = now()
    where customers.email is distinct from excluded.email`;
}

/** Marks a customer deleted (no more emails to them); idempotent. */
export async function markCustomerDeleted(tx: Tx, id: string): Promise<void> {
  await tx`
    insert into customers (id, email, deleted_at) values (${id}, '', now())
    on conflict (id) do update set deleted_at = coalesce(customers.deleted_at, now())`;
}

/** Customers by id. */
export async function findCustomers(
  sql: Sql,
  ids: readonly string[],
): Promise<Map<string, CustomerRow>> {
  if (!ids.length) return new Map();
  const rows = await sql<CustomerRow[]>`
    select id, email, first_name, last_name, deleted_at from customers
    where id = any(${ids as string[]}::uuid[])`;
  return new Map(rows.map((r) => [r.id, r]));
}

/** Records a notification (PENDING); false when this kind was recorded for the order before. */
export async function insertNotification(
  tx: Tx,
  n: {
    id: string;
    kind: Kind;
    orderId: string;
    customerId: string;
    subject: string;
    facts: Facts;
  },
): Promise<boolean> {
  const rows = await tx`
    insert into notifications (id, kind, order_id, customer_id, subject, facts)
    values (${n.id}, ${n.kind}, ${n.orderId}, ${n.customerId}, ${n.subject},
      ${tx.json(n.facts as Record<string, string>)})
    on conflict (kind, order_id) do nothing returning 1`;
  return rows.length > 0;
}

/**
 * Takes up to `limit` due notifications for `leaseMs`: PENDING, due, and not held by another
 * sender. Each taken one counts an attempt.
 */
export async function takeDue(
  sql: Sql,
  limit: number,
  leaseMs: number,
): Promise<NotificationRow[]> {
  return await sql<NotificationRow[]>`
    update notifications n set lease_until = now() + ${leaseMs} * interval '1 millisecond',
      attempts = n.attempts + 1
    where n.id in (
      select id from notifications
      where status = ${NotificationStatus.PENDING} and next_attempt_at <= now()
        and (lease_until is null or lease_until < now())
      order by next_attempt_at
      limit ${limit}
      for update skip locked)
    returning n.*`;
}

/** When the next PENDING notification is due (undefined: none). */
export async function nextDue(sql: Sql): Promise<Date | undefined> {
  const [row] = await sql<Array<{ at: Date | null }>>`
    select min(greatest(next_attempt_at, coalesce(lease_until, next_attempt_at))) as at
    from notifications where status = ${NotificationStatus.PENDING}`;
  return row?.at ?? undefined;
}

const FINAL_FROM = transitions.sourcesOf(NotificationStatus.SENT);

/** PENDING → SENT, with where it went. */
export async function markSent(
  sql: Sql,
  id: string,
  sent: { recipient: string; messageId: string },
): Promise<boolean> {
  const rows = await sql`
    update notifications set status = ${NotificationStatus.SENT}, sent_at = now(),
      recipient = ${sent.recipient}, message_id = ${sent.messageId}, lease_until = null,
      last_error = null
    where id = ${id} and status = any(${FINAL_FROM}::smallint[]) returning 1`;
  return rows.length > 0;
}

/** Keeps a notification PENDING after a failed attempt, due again after `delayMs`. */
export async function markRetry(
  sql: Sql,
  id: string,
  error: string,
  delayMs: number,
  recipient: string | null,
): Promise<void> {
  await sql`
    update notifications set next_attempt_at = now() + ${delayMs} * interval '1 millisecond',
      lease_until = null, last_error = ${error.slice(0, 500)},
      recipient = coalesce(${recipient}, recipient)
    where id = ${id} and status = ${NotificationStatus.PENDING}`;
}

/** PENDING → FAILED: given up, with why. */
export async function markFailed(
  sql: Sql,
  id: string,
  error: string,
  recipient: string | null,
): Promise<void> {
  await sql`
    update notifications set status = ${NotificationStatus.FAILED}, lease_until = null,
      last_error = ${error.slice(0, 500)}, recipient = coalesce(${recipient}, recipient)
    where id = ${id} and status = any(${
    transitions.sourcesOf(NotificationStatus.FAILED)
  }::smallint[])`;
}

/** A page of a customer's notifications, newest first (one extra row). */
export async function listNotifications(
  sql: Sql,
  customerId: string,
  page: PageRequest,
): Promise<NotificationRow[]> {
  return await sql<NotificationRow[]>`
    select * from notifications
    where customer_id = ${customerId} ${page.before ? sql`and id < ${page.before}` : sql``}
    order by id desc limit ${page.size + 1}`;
}
