/**
 * Gathering the chaos snapshot: the run's rows from the order, payment, warehouse and shipping
 * databases, and the records written to the terminal and dead-letter topics since the run began.
 * @module
 */
import { Kafka, logLevel } from "kafkajs";
import { type Delivery, deliveryOf } from "@stocklet/shared/consumer";
import postgres from "postgres";
import { parseTimestamp } from "@stocklet/shared/consumer/lag";
import type { ChaosSnapshot, SnapDeadLetter, SnapOrder, SnapTerminal } from "./invariants.ts";
import { TERMINAL_TOPICS } from "./terminal.ts";

/** The topics whose records end an order for the chaos suite: the saga's, and a cancellation's. */
export const ENDING_TOPICS: readonly string[] = [...TERMINAL_TOPICS, "order.state.cancelled"];

/** Partition → offset, per topic. */
export type Offsets = Map<string, Map<number, string>>;

/** A quiet client. */
export function benchKafka(brokers: string[]): Kafka {
  return new Kafka({ clientId: "stocklet-chaos", brokers, logLevel: logLevel.NOTHING });
}

/** The current end offsets of topics (missing topics are left out). */
export async function endOffsets(kafka: Kafka, topics: readonly string[]): Promise<Offsets> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const out: Offsets = new Map();
    for (const t of topics) {
      if (!existing.has(t)) continue;
      out.set(t, new Map((await admin.fetchTopicOffsets(t)).map((p) => [p.partition, p.high])));
    }
    return out;
  } finally {
    await admin.disconnect();
  }
}

/** A record as read (the consumer runtime's own view of a message). */
export type ReadRecord = Delivery;

/**
 * Reads every record written to the topics since `from` (topics absent from `from` are read from
 * the beginning) up to their current end, with a throwaway group: one member that joins once and
 * seeks each partition to its start (kafkajs' `setOffsets` would join the group once per topic,
 * seconds each); anything read before a seek took effect is left out.
 */
export async function readSince(
  kafka: Kafka,
  topics: readonly string[],
  from: Offsets,
): Promise<ReadRecord[]> {
  const ends = await endOffsets(kafka, topics);
  const group = `stocklet-chaos-read-${crypto.randomUUID()}`;
  const startOf = (t: string, p: number) => BigInt(from.get(t)?.get(p) ?? "0");
  const remaining = new Set<string>();
  for (const [t, parts] of ends) {
    for (const [p, end] of parts) if (BigInt(end) > startOf(t, p)) remaining.add(`${t}/${p}`);
  }
  const records: ReadRecord[] = [];
  if (remaining.size === 0) return records;
  const consumer = kafka.consumer({ groupId: group, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [...ends.keys()], fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`reading ${[...remaining]} did not finish in 120 s`)),
      120_000,
    );
    consumer.run({
      eachMessage: ({ topic, partition, message }) => {
        const offset = BigInt(message.offset);
        if (offset < startOf(topic, partition)) return Promise.resolve(); // before the seek
        records.push(deliveryOf(topic, partition, message));
        const end = ends.get(topic)?.get(partition);
        if (end !== undefined && offset + 1n >= BigInt(end)) {
          remaining.delete(`${topic}/${partition}`);
        }
        if (remaining.size === 0) {
          clearTimeout(timer);
          resolve();
        }
        return Promise.resolve();
      },
    }).catch(reject);
    // The only member: every partition is its own once it joined.
    for (const [t, parts] of ends) {
      for (const [p] of parts) {
        const offset = startOf(t, p);
        if (offset > 0n) consumer.seek({ topic: t, partition: p, offset: String(offset) });
      }
    }
  });
  await consumer.disconnect();
  const admin = kafka.admin();
  await admin.connect().then(() => admin.deleteGroups([group])).catch(() => {});
  await admin.disconnect().catch(() => {});
  return records;
}

/** What the run created and did, to pick its rows out of shared databases. */
export interface RunLedger {
  customers: string[];
  products: string[];
  credits: Record<string, bigint>;
  added: Record<string, number>;
  acknowledged: Array<{ id: string; at: number }>;
  recoveries: number[];
  /** Offsets of the terminal and dead-letter topics when the run began. */
  startOffsets: Offsets;
  deadLetterTopics: string[];
}

async function withDb<T>(url: string, fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, types: { bigint: postgres.BigInt } });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** How many of the customers' orders are still moving (PROCESSING, PENDING or CANCELLING). */
export function inFlightOrders(
  serviceDbUrl: (service: string) => string,
  customers: string[],
): Promise<number> {
  return withDb(serviceDbUrl("order"), async (sql) => {
    const [r] = await sql<Array<{ n: number }>>`
      select count(*)::int as n from orders
      where customer_id = any(${customers}::uuid[]) and status in (1, 2, 7)`;
    return r?.n ?? 0;
  });
}

/** Takes the snapshot the invariants are checked on. */
export async function collectSnapshot(
  serviceDbUrl: (service: string) => string,
  kafka: Kafka,
  run: RunLedger,
): Promise<ChaosSnapshot> {
  const customers = run.customers;
  const orders = await withDb(serviceDbUrl("order"), async (sql) => {
    const rows = await sql<
      Array<{
        id: string;
        customer_id: string;
        status: number;
        total_price_cents: bigint | null;
        created_at: Date;
        items: Record<string, number> | null;
        refunded_cents: bigint | null;
      }>
    >`
      select o.id, o.customer_id, o.status, o.total_price_cents, o.created_at, o.refunded_cents,
        (select json_object_agg(i.product_id, i.quantity) from order_items i
          where i.order_id = o.id) as items
      from orders o where o.customer_id = any(${customers}::uuid[])`;
    return rows.map((r): SnapOrder => ({
      id: r.id,
      customerId: r.customer_id,
      status: r.status,
      totalCents: r.total_price_cents,
      createdAt: r.created_at.getTime(),
      items: r.items ?? {},
      refundedCents: r.refunded_cents,
    }));
  });
  const orderIds = orders.map((o) => o.id);
  const pay = await withDb(serviceDbUrl("payment"), async (sql) => {
    const txs = await sql<
      Array<{ order_id: string; amount_cents: bigint; reversed: boolean }>
    >`select order_id, amount_cents, reversed_at is not null as reversed from transactions
      where customer_id = any(${customers}::uuid[])`;
    const bal = await sql<Array<{ customer_id: string; balance_cents: bigint }>>`
      select customer_id, balance_cents from balances where customer_id = any(${customers}::uuid[])`;
    return { txs, bal };
  });
  const wh = await withDb(serviceDbUrl("warehouse"), async (sql) => {
    const stock = await sql<Array<{ product_id: string; quantity: number }>>`
      select product_id, quantity from product_stock
      where product_id = any(${run.products}::uuid[])`;
    const res = await sql<Array<{ order_id: string; status: number }>>`
      select order_id, status from reservations where order_id = any(${orderIds}::uuid[])`;
    return { stock, res };
  });
  const shipments = await withDb(
    serviceDbUrl("shipping"),
    (sql) =>
      sql<Array<{ order_id: string; status: number }>>`
      select order_id, status from shipments where order_id = any(${orderIds}::uuid[])`,
  );

  const ours = new Set([...orderIds, ...customers, ...run.products]);
  const records = await readSince(
    kafka,
    [...ENDING_TOPICS, ...run.deadLetterTopics],
    run.startOffsets,
  );
  const terminals: SnapTerminal[] = [];
  const deadLetters: SnapDeadLetter[] = [];
  for (const r of records) {
    if (ENDING_TOPICS.includes(r.topic)) {
      if (!r.key || !ours.has(r.key)) continue;
      terminals.push({
        orderId: r.key,
        status: r.topic === "order.state.approved"
          ? "APPROVED"
          : r.topic === "order.state.cancelled"
          ? "CANCELLED"
          : "REJECTED",
        eventId: r.headers.id ?? "",
        committedAt: parseTimestamp(r.headers.created_at ?? "") ?? NaN,
      });
    } else {
      deadLetters.push({
        topic: r.topic,
        partition: r.partition,
        offset: r.offset,
        key: r.key,
        error: r.headers["dlq.error"] ?? "(no dlq.error header)",
        sourceTopic: r.headers["dlq.topic"] ?? "?",
        consumer: r.headers["dlq.consumer"] ?? "?",
        ours: r.key !== null && ours.has(r.key),
      });
    }
  }
  return {
    orders,
    acknowledged: run.acknowledged,
    terminals,
    transactions: pay.txs.map((t) => ({
      orderId: t.order_id,
      amountCents: t.amount_cents,
      reversed: t.reversed,
    })),
    balances: Object.fromEntries(pay.bal.map((b) => [b.customer_id, b.balance_cents])),
    credits: run.credits,
    stock: Object.fromEntries(wh.stock.map((s) => [s.product_id, s.quantity])),
    added: run.added,
    reservations: wh.res.map((r) => ({ orderId: r.order_id, status: r.status })),
    shipments: shipments.map((x) => ({ orderId: x.order_id, status: x.status })),
    deadLetters,
    recoveries: run.recoveries,
  };
}
