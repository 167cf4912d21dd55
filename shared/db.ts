/**
 * Postgres access (npm:postgres). {@linkcode transaction} runs business writes and outbox events
 * in one transaction, inside a span.
 * @module
 */
import postgres from "postgres";
import { insideTrace, SpanKind, withSpan } from "./tracing.ts";
import { flushOutbox, type OutboxEvent, outboxEvent } from "./outbox.ts";
import { poolUsage, recordPoolWait } from "./metrics/process.ts";
import type { DescMessage, MessageInitShape } from "@bufbuild/protobuf";

/** Column types beyond the defaults: int8 as bigint. */
export type DbTypes = { bigint: bigint };

/** A connection pool. */
export type Sql = postgres.Sql<DbTypes>;

/** Queries on a connection inside a transaction, with savepoints. */
export interface TxSql extends postgres.Sql<DbTypes> {
  /**
   * Runs fn inside a savepoint: if it throws, only its writes are undone (and the error
   * rethrown); the transaction goes on.
   */
  savepoint<T>(fn: (sp: TxSql) => Promise<T>): Promise<T>;
}

/** A transaction that can also publish events through the outbox. */
export interface Tx extends TxSql {
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
  /**
   * Runs fn once the transaction committed (never when it, or the savepoint fn was queued in,
   * rolls back): for effects outside the database, such as counting a saga's outcome.
   */
  afterCommit(fn: () => void): void;
}

/** Options for {@linkcode connectDb}. */
export interface DbOptions {
  /** Pool size (a service needs few: consumers run one transaction at a time per partition). @default 5 */
  max?: number;
}

/**
 * Where a `postgres://` URL points: the URL itself, or, for libpq's `?host=<directory>` (a Unix
 * socket, as the local stacks give their services), the URL without it and the socket's path.
 *
 * @example
 * ```ts
 * socketOf("postgres://u:p@127.0.0.1:5432/db?host=%2Frun%2Fpg");
 * // { url: "postgres://u:p@127.0.0.1:5432/db", path: "/run/pg/.s.PGSQL.5432" }
 * ```
 */
export function socketOf(url: string): { url: string; path?: string } {
  const u = new URL(url);
  const dir = u.searchParams.get("host");
  if (!dir?.startsWith("/")) return { url };
  u.searchParams.delete("host");
  return { url: u.toString(), path: `${dir.replace(/\/$/, "")}/.s.PGSQL.${u.port || "5432"}` };
}

/**
 * How long a pooled connection lives (s): each draws its own lifetime between this and half as
 * much again, so that a pool's connections are replaced one at a time. Why: a PostgreSQL backend
 * keeps the memory its busiest moment needed (caches, plans, sort space) until it exits; with
 * postgres.js's own default (30–60 min) every connection a service opened at its start was
 * replaced at some random point of its first hour, and the bench's 30-minute soak, measured from
 * minute 25 to 55 of a run, saw PostgreSQL give back 46–55 MiB/h as they were. Replaced within a
 * quarter of an hour, the backends' memory is steady before the soak measures, and lower.
 */
export const CONNECTION_LIFETIME_SECONDS = 10 * 60;

/** Opens a pool for a `postgres://` URL (`?host=/dir`: through that directory's Unix socket). */
export function connectDb(url: string, opts: DbOptions = {}): Sql {
  poolUsage.max += opts.max ?? 5;
  const target = socketOf(url);
  return postgres(target.url, {
    ...(target.path ? { path: target.path } : {}),
    max: opts.max ?? 5,
    idle_timeout: 60,
    // A function is drawn once per connection (postgres.js's own default is one too).
    max_lifetime: (() =>
      CONNECTION_LIFETIME_SECONDS * (1 + Math.random() / 2)) as unknown as number,
    connect_timeout: 10,
    onnotice: () => {},
    // int8 columns (money in cents, counters) come back as bigint, never as lossy numbers.
    types: { bigint: postgres.BigInt },
    connection: { application_name: Deno.env.get("OTEL_SERVICE_NAME") ?? "stocklet" },
  }) as unknown as Sql;
}

/**
 * Runs fn in one transaction; the events it publishes are inserted into the outbox with the
 * commit (Debezium reads the insert from the WAL; relayed rows are purged in the background).
 *
 * Round trips are what a transaction costs most (measured here: about 110 µs of client CPU for a
 * query awaited alone, 36 µs pipelined), so `BEGIN` travels with the transaction's first query,
 * and the outbox insert with the `COMMIT`: a transaction of n statements takes n round trips, not
 * n + 2. A failed statement aborts the transaction, which PostgreSQL then rolls back at `COMMIT`.
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
  // Inside a trace (a request's, a saga step's) the transaction is a span of it. Outside one it
  // gets none: a consumer round's transaction holds several orders' events (each in its own
  // consumer span, a child of the span that published it), and a background task's belongs to no
  // order, so a span would only start a trace of its own that nothing links to (one per round).
  if (!insideTrace()) return run(sql, name, fn);
  return withSpan(`db.tx ${name}`, {
    kind: SpanKind.CLIENT,
    attributes: { "db.system": "postgresql", "db.operation.name": "transaction" },
  }, () => run(sql, name, fn));
}

async function run<T>(sql: Sql, name: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const asked = performance.now();
  poolUsage.waiting++;
  let conn;
  try {
    conn = await sql.reserve();
  } finally {
    poolUsage.waiting--;
  }
  poolUsage.inUse++;
  recordPoolWait((performance.now() - asked) / 1000);
  let open = false;
  try {
    // Sent with the first query (postgres.js writes what a tick queued in one go). Not awaited:
    // a failure here fails every later statement too, so it is reported by those.
    conn`begin`.catch(noop);
    open = true;
    const pending: OutboxEvent[] = [];
    const committed: Array<() => void> = [];
    let savepoints = 0;
    const savepoint = async <R>(inner: (sp: TxSql) => Promise<R>): Promise<R> => {
      const name = `s${++savepoints}`;
      const queued = committed.length;
      conn.unsafe(`savepoint ${name}`).catch(noop);
      try {
        const r = await inner(tx);
        conn.unsafe(`release savepoint ${name}`).catch(noop);
        return r;
      } catch (e) {
        committed.length = queued;
        await conn.unsafe(`rollback to savepoint ${name}`);
        throw e;
      }
    };
    const tx = Object.assign(conn, {
      savepoint,
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
      afterCommit(fn: () => void): void {
        committed.push(fn);
      },
    }) as unknown as Tx;
    const result = await fn(tx);
    const tail: Promise<unknown>[] = [];
    if (pending.length) tail.push(flushOutbox(conn, pending));
    const commit = conn`commit`;
    tail.push(commit);
    const settled = await Promise.allSettled(tail);
    open = false;
    const failed = settled.find((x) => x.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
    if ((await commit).command !== "COMMIT") {
      throw new Error(`transaction ${name} was rolled back at commit`);
    }
    for (const fn of committed) {
      try {
        fn();
      } catch { /* an after-commit effect never fails the committed transaction */ }
    }
    return result;
  } catch (e) {
    if (open) await conn`rollback`.catch(() => {});
    throw e;
  } finally {
    poolUsage.inUse--;
    conn.release();
  }
}

function noop(): void {}

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
