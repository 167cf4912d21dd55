/**
 * The web front's SQL: its read model of the saga (timeline), of customers and of dead letters.
 * @module
 */
import type { Sql, TxSql } from "@stocklet/shared/db";
import type { StepKind, StoredStep, TimelineStep } from "./timeline.ts";

/** The channel a stored step is announced on (payload: the order id), delivered at commit. */
export const TIMELINE_CHANNEL = "web_timeline";

/**
 * Stores one step and announces its order on {@linkcode TIMELINE_CHANNEL}, in one statement (one
 * round trip: the projection runs under the benchmark's load too). A replayed event changes
 * nothing and announces nothing.
 */
export async function recordStep(
  tx: TxSql,
  eventId: string,
  at: Date,
  s: TimelineStep,
): Promise<void> {
  await tx`
    with stored as (
      insert into timeline (event_id, order_id, at, service, step, kind, status, detail)
      values (${eventId}, ${s.orderId}, ${at}, ${s.service}, ${s.step}, ${s.kind},
        ${s.status ?? null}, ${tx.json(s.detail as Record<string, never>)})
      on conflict (event_id) do nothing
      returning order_id
    )
    select pg_notify(${TIMELINE_CHANNEL}, order_id::text) from stored`;
}

interface StepRow {
  event_id: string;
  order_id: string;
  at: Date;
  service: string;
  step: string;
  kind: StepKind;
  status: string | null;
  detail: StoredStep["detail"];
}

/** An order's steps, oldest first (by when each service committed its step). */
export async function orderSteps(sql: Sql, orderId: string): Promise<StoredStep[]> {
  const rows = await sql<StepRow[]>`
    select event_id, order_id, at, service, step, kind, status, detail
    from timeline where order_id = ${orderId} order by at, event_id`;
  return rows.map((r) => ({
    eventId: r.event_id,
    orderId: r.order_id,
    at: r.at,
    service: r.service,
    step: r.step,
    kind: r.kind,
    ...(r.status ? { status: r.status } : {}),
    detail: r.detail,
  }));
}

/** A customer as the web front knows them. */
export interface Customer {
  id: string;
  email: string;
  firstName: string;
  lastName: string;
}

/** Adds or refreshes a customer (`user.state.created`). */
export async function upsertCustomer(tx: TxSql, c: Customer, at: Date): Promise<void> {
  await tx`
    insert into customers (id, email, first_name, last_name, created_at)
    values (${c.id}, ${c.email}, ${c.firstName}, ${c.lastName}, ${at})
    on conflict (id) do update set email = excluded.email, first_name = excluded.first_name,
      last_name = excluded.last_name`;
}

/** A customer's new email (`user.attr.email`). */
export async function changeEmail(tx: TxSql, id: string, email: string): Promise<void> {
  await tx`update customers set email = ${email} where id = ${id}`;
}

/** Forgets a deleted customer (`user.state.deleted`). */
export async function forgetCustomer(tx: TxSql, id: string): Promise<void> {
  await tx`delete from customers where id = ${id}`;
}

function customerOf(
  r: { id: string; email: string; first_name: string; last_name: string },
): Customer {
  return { id: r.id, email: r.email, firstName: r.first_name, lastName: r.last_name };
}

/** Customers by id (those the read model knows). */
export async function customersById(
  sql: Sql,
  ids: readonly string[],
): Promise<Map<string, Customer>> {
  if (!ids.length) return new Map();
  const rows = await sql<
    Array<{ id: string; email: string; first_name: string; last_name: string }>
  >`
    select id, email, first_name, last_name from customers where id = any(${ids}::uuid[])`;
  return new Map(rows.map((r) => [r.id, customerOf(r)]));
}

/**
 * Customers whose email or name contains the query (case-insensitive), newest first; the newest
 * customers when the query is empty.
 */
export async function findCustomers(sql: Sql, query: string, limit = 20): Promise<Customer[]> {
  const q = query.trim();
  const pattern = `%${q.replace(/[\\%_]/g, (c) => "\\" + c)}%`;
  const rows = await sql<
    Array<{ id: string; email: string; first_name: string; last_name: string }>
  >`
    select id, email, first_name, last_name from customers
    ${
    q
      ? sql`where email ilike ${pattern} or (first_name || ' ' || last_name) ilike ${pattern}
          or id::text = ${q.toLowerCase()}`
      : sql``
  }
    order by created_at desc limit ${limit}`;
  return rows.map(customerOf);
}

/** A record of a dead-letter topic. */
export interface DeadLetter {
  topic: string;
  partition: number;
  offset: string;
  sourceTopic: string | null;
  consumer: string | null;
  error: string | null;
  attempts: number | null;
  failedAt: Date | null;
  key: string | null;
  eventId: string | null;
  eventType: string | null;
  payload: Uint8Array | null;
  headers: Record<string, string>;
}

/** Stores a dead letter once (a re-read record changes nothing). */
export async function recordDeadLetter(sql: Sql, d: DeadLetter): Promise<void> {
  await sql`
    insert into dead_letters (topic, partition, "offset", source_topic, consumer, error, attempts,
      failed_at, message_key, event_id, event_type, payload, headers)
    values (${d.topic}, ${d.partition}, ${d.offset}, ${d.sourceTopic}, ${d.consumer}, ${d.error},
      ${d.attempts}, ${d.failedAt}, ${d.key}, ${d.eventId}, ${d.eventType}, ${d.payload},
      ${sql.json(d.headers)})
    on conflict do nothing`;
}

/** How many dead letters each topic holds, and the latest. */
export async function deadLetterCounts(
  sql: Sql,
): Promise<Array<{ topic: string; count: number; latest: Date | null }>> {
  const rows = await sql<Array<{ topic: string; count: bigint; latest: Date | null }>>`
    select topic, count(*) as count, max(failed_at) as latest
    from dead_letters group by topic order by topic`;
  return rows.map((r) => ({ topic: r.topic, count: Number(r.count), latest: r.latest }));
}

/** The latest dead letters, optionally of one topic. */
export async function latestDeadLetters(
  sql: Sql,
  topic: string | undefined,
  limit = 50,
): Promise<DeadLetter[]> {
  const rows = await sql<
    Array<{
      topic: string;
      partition: number;
      offset: bigint;
      source_topic: string | null;
      consumer: string | null;
      error: string | null;
      attempts: number | null;
      failed_at: Date | null;
      message_key: string | null;
      event_id: string | null;
      event_type: string | null;
      payload: Uint8Array | null;
      headers: Record<string, string>;
    }>
  >`
    select * from dead_letters ${topic ? sql`where topic = ${topic}` : sql``}
    order by received_at desc, "offset" desc limit ${limit}`;
  return rows.map((r) => ({
    topic: r.topic,
    partition: r.partition,
    offset: String(r.offset),
    sourceTopic: r.source_topic,
    consumer: r.consumer,
    error: r.error,
    attempts: r.attempts,
    failedAt: r.failed_at,
    key: r.message_key,
    eventId: r.event_id,
    eventType: r.event_type,
    payload: r.payload,
    headers: r.headers,
  }));
}
