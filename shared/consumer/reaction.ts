/**
 * Reactions: what a service does when an event arrives. A reaction names its topic, decodes the
 * topic's message and runs inside the transaction the consumer runtime opens (with the inbox row
 * that makes redelivery a no-op), so its writes and the events it publishes commit together.
 * @module
 */
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import type { Tx } from "../db.ts";
import { schemaOf } from "../topics.ts";

/** What the runtime knows about a delivered event besides its payload. */
export interface EventMeta {
  /** The outbox event id (Kafka header `id`): the dedupe key. */
  id: string;
  topic: string;
  /** The Kafka key (the outbox `aggregateid`). */
  key: string;
  partition: number;
  offset: string;
  /** The message's full type name (Kafka header `type`). */
  type: string;
  /** When the producer committed the event (Kafka header `created_at`), if known. */
  createdAt?: Date;
}

/** One topic's handler. */
export interface Reaction<D extends DescMessage = DescMessage> {
  readonly topic: string;
  readonly schema: D;
  /**
   * A cheap test run before any transaction: events it rejects are acknowledged untouched (e.g.
   * shipping ignores successful payments). Default: every event.
   */
  readonly filter?: (event: MessageShape<D>) => boolean;
  /** Applies the event. Throwing rolls the transaction back; the runtime retries or dead-letters. */
  readonly handle: (event: MessageShape<D>, tx: Tx, meta: EventMeta) => Promise<void>;
}

/** Options of {@linkcode on}. */
export interface ReactionOptions<D extends DescMessage> {
  /** Acknowledge events failing this test without a transaction. */
  filter?: (event: MessageShape<D>) => boolean;
}

/**
 * Declares a reaction, checking at start-up that the topic carries the schema's message.
 *
 * @example
 * ```ts
 * on("order.state.created", events.OrderCreatedEventSchema, async (e, tx) => {
 *   await quote(tx, e);
 * });
 * ```
 */
export function on<D extends DescMessage>(
  topic: string,
  schema: D,
  handle: (event: MessageShape<D>, tx: Tx, meta: EventMeta) => Promise<void>,
  opts: ReactionOptions<D> = {},
): Reaction<DescMessage> {
  const expected = schemaOf(topic);
  if (expected.typeName !== schema.typeName) {
    throw new Error(`topic ${topic} carries ${expected.typeName}, not ${schema.typeName}`);
  }
  return {
    topic,
    schema,
    handle,
    ...(opts.filter ? { filter: opts.filter } : {}),
  } as unknown as Reaction<DescMessage>;
}
