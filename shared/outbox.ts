/**
 * The transactional outbox. Each event becomes a row of `outbox`:
 * `id` (uuid → Kafka header `id`, the consumers' dedupe key), `aggregatetype` (the topic),
 * `aggregateid` (the Kafka key), `type` (the message's full name → header `type`), `payload`
 * (protobuf bytes, passed through unchanged) and `traceparent` (→ header `traceparent`).
 * Debezium's EventRouter relays the insert; the row is deleted in the same transaction.
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

/** Inserts the rows and deletes them again (two statements, whatever the number of events). */
export async function flushOutbox(
  tx: postgres.TransactionSql<DbTypes>,
  rows: OutboxEvent[],
): Promise<void> {
  const columns = ["id", "aggregatetype", "aggregateid", "type", "payload", "traceparent"];
  await tx`insert into outbox ${tx(rows as never, columns as never)}`;
  await tx`delete from outbox where id in ${tx(rows.map((r) => r.id))}`;
}
