/**
 * Postgres access (npm:postgres). {@linkcode transaction} runs business writes and outbox events
 * in one transaction, inside a span.
 * @module
 */
import postgres from "postgres";
import { SpanKind, withSpan } from "./tracing.ts";
import { flushOutbox, type OutboxEvent, outboxEvent } from "./outbox.ts";
import type { DescMessage, MessageInitShape } from "@bufbuild/protobuf";

/** Column types beyond the defaults: int8 as bigint. */
export type DbTypes = { bigint: bigint };

/** A connection pool. */
export type Sql = postgres.Sql<DbTypes>;

/** A transaction or savepoint (anything that runs queries inside a transaction). */
export type TxSql = postgres.TransactionSql<DbTypes>;

/** A transaction that can also publish events through the outbox. */
export interface Tx extends postgres.TransactionSql<DbTypes> {
  /**
   * Queues an event for the outbox; it is written (and relayed by Debezium) only if the
   * transaction commits. Returns the event id (the consumers' dedupe key).
   */
  publish<D extends DescMessage>(
    topic: string,
    key: string,
    schema: D,
    event: MessageInitShape<D>,
  ): string;
}

/** Options for {@linkcode connectDb}. */
export interface DbOptions {
  /** Pool size (a service needs few: consumers run one transaction at a time per partition). @default 5 */
  max?: number;
}

/** Opens a pool for a `postgres://` URL. */
export function connectDb(url: string, opts: DbOptions = {}): Sql {
  return postgres(url, {
    max: opts.max ?? 5,
    idle_timeout: 60,
    connect_timeout: 10,
    onnotice: () => {},
    // int8 columns (money in cents, counters) come back as bigint, never as lossy numbers.
    types: { bigint: postgres.BigInt },
    connection: { application_name: Deno.env.get("OTEL_SERVICE_NAME") ?? "stocklet" },
  }) as unknown as Sql;
}

/**
 * Runs fn in one transaction; events it publishes are inserted into the outbox (and deleted
 * again, so the table stays empty: Debezium reads the insert from the WAL) before the commit.
 *
 * @example
 * ```ts
 * await transaction(sql, "place order", async (tx) => {
 *   await tx`insert into orders ${tx(row)}`;
 *   tx.publish("order.state.created", row.id, OrderCreatedEventSchema, event);
 * });
 * ```
 */
export function transaction<T>(sql: Sql, name: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return withSpan(`db.tx ${name}`, {
    kind: SpanKind.CLIENT,
    attributes: { "db.system": "postgresql", "db.operation.name": "transaction" },
  }, async () => {
    const result = await sql.begin(async (raw) => {
      const pending: OutboxEvent[] = [];
      const tx = Object.assign(raw, {
        publish<D extends DescMessage>(
          topic: string,
          key: string,
          schema: D,
          event: MessageInitShape<D>,
        ): string {
          const e = outboxEvent(topic, key, schema, event);
          pending.push(e);
          return e.id;
        },
      }) as Tx;
      const r = await fn(tx);
      if (pending.length) await flushOutbox(raw, pending);
      return [r];
    });
    return (result as unknown as [T])[0];
  });
}

/** Whether an error is Postgres' unique_violation (23505), optionally on one constraint. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint_name?: string };
  return e?.code === "23505" && (constraint === undefined || e.constraint_name === constraint);
}

/**
 * Whether an error means "try again later" rather than "this input is bad": the database or the
 * network is unavailable, or the transaction lost a serialization race or a deadlock.
 */
export function isTransientDbError(err: unknown): boolean {
  const e = err as { code?: string; errno?: string; message?: string };
  const code = e?.code ?? "";
  if (/^(08|53|57P0|57P03|40001|40P01)/.test(code)) return true;
  if (
    [
      "ECONNREFUSED",
      "ECONNRESET",
      "EPIPE",
      "ETIMEDOUT",
      "CONNECTION_CLOSED",
      "CONNECTION_ENDED",
      "CONNECTION_DESTROYED",
      "CONNECT_TIMEOUT",
    ].includes(code)
  ) {
    return true;
  }
  return /connection (refused|reset|closed|terminated)|ECONNREFUSED|ECONNRESET/i.test(
    e?.message ?? "",
  );
}
