/**
 * The inbox: one row per (consumer, event id) a consumer applied, written in the transaction that
 * applies the event, so a redelivered event finds its row and changes nothing. Rows older than the
 * topics' replay horizon (retention, plus the span of a segment: Kafka deletes whole segments) can
 * never meet their event again and are purged.
 * @module
 */
import type { Sql, TxSql } from "../db.ts";

/** An event to claim: its id header and topic. */
export interface InboxEntry {
  id: string;
  topic: string;
}

/**
 * Claims events for a consumer in one statement; returns the ids that were new (the others were
 * applied before, or are being applied by a transaction that will commit first).
 */
export async function claim(
  tx: TxSql,
  consumer: string,
  entries: readonly InboxEntry[],
): Promise<Set<string>> {
  if (entries.length === 1) {
    const e = entries[0]!;
    const rows = await tx<{ event_id: string }[]>`
      insert into inbox (consumer, event_id, topic) values (${consumer}, ${e.id}, ${e.topic})
      on conflict do nothing
      returning event_id`;
    return new Set(rows.map((r) => r.event_id));
  }
  const rows = await tx<{ event_id: string }[]>`
    insert into inbox (consumer, event_id, topic)
    select ${consumer}, e.id, e.topic
    from unnest(${entries.map((e) => e.id)}::uuid[], ${entries.map((e) => e.topic)}::text[])
      as e(id, topic)
    on conflict do nothing
    returning event_id`;
  return new Set(rows.map((r) => r.event_id));
}

/**
 * Deletes inbox rows older than `horizonMs` (see `replayHorizonOf` in shared/kafka.ts): Kafka no
 * longer holds their events, so no redelivery can need them.
 *
 * @returns How many rows were deleted.
 */
export async function purgeInbox(sql: Sql, horizonMs: number): Promise<number> {
  const rows = await sql`
    delete from inbox where processed_at < now() - ${horizonMs} * interval '1 millisecond'`;
  return rows.count;
}
