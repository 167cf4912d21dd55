/**
 * The transactional outbox. Each event becomes a row of `outbox`:
 * `id` (uuid → Kafka header `id`, the consumers' dedupe key), `aggregatetype` (the topic),
 * `aggregateid` (the Kafka key), `type` (the message's full name → header `type`), `payload`
 * (protobuf bytes, passed through unchanged) and `traceparent` (→ header `traceparent`).
 * Debezium's EventRouter relays the insert from the WAL; {@linkcode purgeOutbox} deletes rows
 * the relay confirmed.
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
  tx: postgres.Sql<DbTypes>,
  rows: OutboxEvent[],
): Promise<void> {
  const columns = ["id", "aggregatetype", "aggregateid", "type", "payload", "traceparent"];
  await tx`insert into outbox ${tx(rows as never, columns as never)}`;
}

/**
 * Deletes outbox rows created before `before`: the relay's confirmed watermark (see
 * `RelayWatch`), so a row is never deleted before Debezium relayed it. Debezium ignores the deletes
 * (the publication carries inserts only), so purging costs the relay nothing.
 *
 * @returns How many rows were deleted.
 */
export async function purgeOutbox(
  sql: postgres.Sql<DbTypes>,
  before: Date,
): Promise<number> {
  const rows = await sql`delete from outbox where created_at < ${before}`;
  return rows.count;
}
