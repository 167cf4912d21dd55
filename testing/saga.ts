/**
 * Component tests of a saga participant: the service's reactions against its own real database
 * (a throwaway one, migrated as in production), events in, outbox rows out. An event is delivered
 * as the consumer runtime delivers it — the reaction for its topic, its filter, one transaction —
 * minus Kafka and the inbox: a repeated delivery here is one the inbox would not catch (a replay
 * under a new event id), so what it proves is that the steps themselves are idempotent.
 *
 * Two deliveries can be interleaved deterministically: {@linkcode SagaParticipant.hold} keeps a
 * delivery's transaction open after its step, {@linkcode SagaParticipant.start} runs another one
 * beside it, and {@linkcode SagaParticipant.lockWaiters} waits until that one is blocked on a lock
 * before the first commits. {@linkcode SagaParticipant.holdTx} does the same for any step (a
 * request's, e.g. a dispatch), so a request can race a delivery.
 * @module
 */
import {
  create,
  type DescMessage,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import { type Sql, transaction, type Tx } from "@stocklet/shared/db";
import { uuidv7 } from "@stocklet/shared/ids";
import { events } from "@stocklet/shared/proto";
import type { Reaction } from "@stocklet/shared/reaction";
import { schemaOf } from "@stocklet/shared/topics";
import { createTestDb, type TestDb } from "./db.ts";

/** An event a participant committed to its outbox. */
export interface Published {
  topic: string;
  /** The Kafka key (`aggregateid`). */
  key: string;
  /** The decoded message of the topic's type. */
  event: MessageShape<DescMessage>;
}

/** A delivery whose transaction is held open after its step. */
export interface HeldDelivery {
  /** Resolves once the step ran (its transaction still open, its row locks held). */
  applied: Promise<void>;
  /** Lets the transaction commit and waits for it. */
  commit(): Promise<void>;
}

/** A participant under test. */
export interface SagaParticipant {
  db: TestDb;
  /** A pool on the participant's database. */
  sql: Sql;
  /**
   * Delivers one event and returns the events committed since the last drain (so: the ones it
   * published). An event its reaction filters out runs nothing and publishes nothing.
   */
  deliver<D extends DescMessage>(
    topic: string,
    schema: D,
    event: MessageInitShape<D>,
  ): Promise<Published[]>;
  /** Starts a delivery and holds its transaction open after the step until `commit()`. */
  hold<D extends DescMessage>(topic: string, schema: D, event: MessageInitShape<D>): HeldDelivery;
  /**
   * Runs any step in a transaction held open after it until `commit()` (its error, if it throws,
   * comes out of `commit()`).
   */
  holdTx(name: string, step: (tx: Tx) => Promise<unknown>): HeldDelivery;
  /** Starts a delivery without waiting for it (it commits when its step is done). */
  start<D extends DescMessage>(topic: string, schema: D, event: MessageInitShape<D>): Promise<void>;
  /** Resolves once at least n transactions on this database wait for a lock. */
  lockWaiters(n?: number, timeoutMs?: number): Promise<void>;
  /** The committed outbox rows not yet drained, oldest first (they are deleted). */
  drain(): Promise<Published[]>;
  /** Closes the pool and drops the database. */
  close(): Promise<void>;
}

/**
 * A participant: a fresh database with the service's migrations, and its reactions.
 *
 * @param service The folder under migrations/.
 * @example
 * ```ts
 * const payment = await sagaParticipant("payment", paymentReactions());
 * const out = await payment.deliver("order.state.rejected", events.OrderRejectedEventSchema, {
 *   orderId, customerId,
 * });
 * assert.deepEqual(out, []);
 * ```
 */
export async function sagaParticipant(
  service: string,
  reactions: readonly Reaction[],
): Promise<SagaParticipant> {
  const db = await createTestDb(service);
  const sql = db.sql;
  const byTopic = new Map(reactions.map((r) => [r.topic, r]));

  /** The reaction's transaction body for an event, or undefined when its filter skips it. */
  function stepOf<D extends DescMessage>(topic: string, schema: D, init: MessageInitShape<D>) {
    const reaction = byTopic.get(topic);
    if (!reaction) throw new Error(`${service} has no reaction to ${topic}`);
    if (schema.typeName !== schemaOf(topic).typeName) {
      throw new Error(`${topic} carries ${schemaOf(topic).typeName}, not ${schema.typeName}`);
    }
    // Through the wire format, as a consumer receives it.
    const event = fromBinary(reaction.schema, toBinary(schema, create(schema, init)));
    if (reaction.filter && !reaction.filter(event)) return undefined;
    const meta = {
      id: uuidv7(),
      topic,
      key: "",
      partition: 0,
      offset: "0",
      type: schema.typeName,
    };
    return (tx: Parameters<Reaction["handle"]>[1]) => reaction.handle(event, tx, meta);
  }

  // A service that publishes nothing (notification) has no outbox: it never has anything to drain.
  const [{ outbox }] = await sql<Array<{ outbox: boolean }>>`
    select to_regclass('outbox') is not null as outbox` as unknown as [{ outbox: boolean }];

  async function drain(): Promise<Published[]> {
    if (!outbox) return [];
    const rows = await sql<
      Array<{ aggregatetype: string; aggregateid: string; payload: Uint8Array }>
    >`
      with drained as (delete from outbox returning *)
      select aggregatetype, aggregateid, payload from drained order by id`;
    return rows.map((r) => ({
      topic: r.aggregatetype,
      key: r.aggregateid,
      event: fromBinary(schemaOf(r.aggregatetype), r.payload),
    }));
  }

  function start<D extends DescMessage>(
    topic: string,
    schema: D,
    event: MessageInitShape<D>,
  ): Promise<void> {
    const step = stepOf(topic, schema, event);
    if (!step) return Promise.resolve();
    return transaction(sql, `deliver ${topic}`, step);
  }

  function holdTx(name: string, step: (tx: Tx) => Promise<unknown>): HeldDelivery {
    let stepped!: () => void;
    let release!: () => void;
    const ran = new Promise<void>((r) => stepped = r);
    const gate = new Promise<void>((r) => release = r);
    const done = transaction(sql, name, async (tx) => {
      try {
        await step(tx);
      } finally {
        stepped();
      }
      await gate;
    });
    done.catch(() => {}); // reported by commit()
    const failedEarly = done.then(() => {
      throw new Error(`${name}: committed before its step ran`);
    });
    failedEarly.catch(() => {});
    return {
      applied: Promise.race([ran, failedEarly]),
      async commit() {
        release();
        await done;
      },
    };
  }

  return {
    db,
    sql,
    async deliver(topic, schema, event) {
      await start(topic, schema, event);
      return await drain();
    },
    hold(topic, schema, event) {
      const step = stepOf(topic, schema, event);
      if (!step) throw new Error(`${topic}: the reaction filters this event out`);
      return holdTx(`hold ${topic}`, step);
    },
    holdTx,
    start,
    async lockWaiters(n = 1, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const [row] = await sql<Array<{ n: number }>>`
          select count(*)::int as n from pg_stat_activity
          where datname = current_database() and wait_event_type = 'Lock'`;
        if (row!.n >= n) return;
        if (Date.now() > deadline) throw new Error(`no ${n} lock waiter(s) after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    drain,
    close: () => db.drop(),
  };
}

/**
 * The one event published on `topic`, decoded as `schema`; throws when there is none or more.
 *
 * @example
 * ```ts
 * const paid = only(out, "payment.processing", events.PaymentProcessedEventSchema);
 * assert.equal(paid.type, events.PaymentProcessedEvent_Type.SUCCESS);
 * ```
 */
export function only<D extends DescMessage>(
  published: readonly Published[],
  topic: string,
  schema: D,
): MessageShape<D> {
  const found = published.filter((p) => p.topic === topic);
  if (found.length !== 1) {
    throw new Error(
      `expected one event on ${topic}, got ${found.length} (published: ${
        published.map((p) => p.topic).join(", ") || "nothing"
      })`,
    );
  }
  if (schema.typeName !== schemaOf(topic).typeName) {
    throw new Error(`${topic} carries ${schemaOf(topic).typeName}, not ${schema.typeName}`);
  }
  return found[0]!.event as MessageShape<D>;
}

/** The topics of published events, in order. */
export function topicsOf(published: readonly Published[]): string[] {
  return published.map((p) => p.topic);
}

/** A delivery's arguments: topic, schema and event (spread them into `deliver`, `hold`, `start`). */
export type Delivery<D extends DescMessage> = readonly [
  topic: string,
  schema: D,
  event: MessageInitShape<D>,
];

/**
 * `order.state.rejected` for an order (reason TIMEOUT: the one that can race every step).
 *
 * @example
 * ```ts
 * await warehouse.deliver(...orderRejected(orderId, customerId));
 * ```
 */
export function orderRejected(
  orderId: string,
  customerId: string,
): Delivery<typeof events.OrderRejectedEventSchema> {
  return ["order.state.rejected", events.OrderRejectedEventSchema, {
    revision: 1,
    orderId,
    customerId,
    reason: events.OrderRejectedEvent_Reason.TIMEOUT,
  }];
}

/** `payment.processing` with an outcome for an order. */
export function paymentProcessed(
  orderId: string,
  customerId: string,
  type: events.PaymentProcessedEvent_Type,
): Delivery<typeof events.PaymentProcessedEventSchema> {
  return ["payment.processing", events.PaymentProcessedEventSchema, {
    revision: 1,
    type,
    orderId,
    customerId,
  }];
}

/** `shipping.shipment.cancelled` for an order: its cancellation won against dispatch. */
export function shipmentCancelled(
  orderId: string,
  customerId: string,
  productQuantities: Record<string, number> = {},
): Delivery<typeof events.ShipmentCancelledEventSchema> {
  return ["shipping.shipment.cancelled", events.ShipmentCancelledEventSchema, {
    revision: 1,
    orderId,
    customerId,
    shipmentId: uuidv7(),
    productQuantities,
  }];
}

/** `shipping.shipment.dispatched` for an order, with a carrier and tracking number. */
export function shipmentDispatched(
  orderId: string,
  customerId: string,
  opts: { shipmentId?: string; productQuantities?: Record<string, number> } = {},
): Delivery<typeof events.ShipmentDispatchedEventSchema> {
  return ["shipping.shipment.dispatched", events.ShipmentDispatchedEventSchema, {
    revision: 1,
    shipmentId: opts.shipmentId ?? uuidv7(),
    orderId,
    customerId,
    productQuantities: opts.productQuantities ?? {},
    carrier: "DHL",
    trackingNumber: "JD0123456789",
  }];
}
