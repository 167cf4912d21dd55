/**
 * The transactional outbox. Each event becomes a row of `outbox`:
 * `id` (uuid → Kafka header `id`, the consumers' dedupe key), `aggregatetype` (the topic),
 * `aggregateid` (the Kafka key), `type` (the message's full name → header `type`), `payload`
 * (protobuf bytes, passed through unchanged) and `traceparent` (→ header `traceparent`).
 * Debezium's EventRouter relays the insert from the WAL; {@linkcode purgeOutbox} deletes rows
 * that were relayed.
 * @module
 */
import { create, type DescMessage, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import type postgres from "postgres";
import { schemaOf } from "./topics.ts";
import { currentTraceparent } from "./tracing.ts";
import { uuidv7 } from "./ids.ts";
import type { DbTypes } from "./db.ts";

/** One outbox row. */
export interface OutboxEvent {
  id: string;
  aggregatetype: string;
  aggregateid: string;
  type: string;
  payload: Uint8Array;
  traceparent: string | null;
}

/** Builds the outbox row of an event, checking that the topic carries this message type. */
export function outboxEvent<D extends DescMessage>(
  topic: string,
  key: string,
  schema: D,
  event: MessageInitShape<D>,
): OutboxEvent {
  const expected = schemaOf(topic);
  if (expected.typeName !== schema.typeName) {
    throw new Error(`topic ${topic} carries ${expected.typeName}, not ${schema.typeName}`);
  }
  if (!key) throw new Error(`event on ${topic} needs a key`);
  return {
    id: uuidv7(),
    aggregatetype: topic,
    aggregateid: key,
    type: schema.typeName,
    payload: toBinary(schema, create(schema, event)),
    traceparent: currentTraceparent() ?? null,
  };
}

/** Inserts the rows (one statement, whatever the number of events). */
export async function flushOutbox(
  tx: postgres.TransactionSql<DbTypes>,
  rows: OutboxEvent[],
): Promise<void> {
  const columns = ["id", "aggregatetype", "aggregateid", "type", "payload", "traceparent"];
  await tx`insert into outbox ${tx(rows as never, columns as never)}`;
}

/**
 * Deletes outbox rows older than `olderThanMs`. Debezium relays each row from the WAL when its
 * transaction commits, so a row's only use is over by then: purging in the background keeps the
 * table small without an extra statement in every business transaction (Debezium ignores the
 * deletes: `tombstones.on.delete=false`).
 *
 * @returns How many rows were deleted.
 */
export async function purgeOutbox(
  sql: postgres.Sql<DbTypes>,
  olderThanMs: number,
): Promise<number> {
  const rows = await sql`
    delete from outbox where created_at < clock_timestamp() - ${olderThanMs} * interval '1 millisecond'`;
  return rows.count;
}
