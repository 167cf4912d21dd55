/**
 * A fingerprint of every service's business state: per database, per table, the row count and an
 * md5 of all rows. The outbox, inbox and migration bookkeeping are left out: redelivered events add
 * inbox attempts nowhere (they are skipped), but the point is the business rows.
 * @module
 */
import postgres from "postgres";
import { SERVICES } from "@stocklet/shared/topology";

/** Table → `count:md5` per service. */
export type StateFingerprint = Record<string, Record<string, string>>;

const BOOKKEEPING = new Set(["outbox", "inbox", "schema_migrations"]);

/** Fingerprints every service's tables, each read through its own database URL. */
export async function fingerprint(
  serviceDbUrl: (service: string) => string,
): Promise<StateFingerprint> {
  const out: StateFingerprint = {};
  for (const svc of SERVICES) {
    const sql = postgres(serviceDbUrl(svc.name), { max: 1, onnotice: () => {} });
    try {
      const tables = await sql<Array<{ table_name: string }>>`
        select table_name from information_schema.tables
        where table_schema = current_schema() and table_type = 'BASE TABLE'
        order by table_name`;
      const db: Record<string, string> = {};
      for (const { table_name } of tables) {
        if (BOOKKEEPING.has(table_name)) continue;
        const [r] = await sql.unsafe(
          `select count(*)::text as n, coalesce(md5(string_agg(t::text, '|' order by t::text)), '') as h
           from "${table_name}" t`,
        );
        db[table_name] = `${r!.n}:${r!.h}`;
      }
      out[svc.name] = db;
    } finally {
      await sql.end();
    }
  }
  return out;
}

/**
 * Waits until the notification service has no email left to send (no PENDING row): the sender
 * works after the consuming transaction, and a sender killed mid-send leaves its rows leased for a
 * minute, so its table is still moving after every consumer group caught up.
 *
 * @returns How many were still pending when it gave up (0: settled).
 */
export async function notificationsSettled(
  serviceDbUrl: (service: string) => string,
  timeoutMs = 120_000,
): Promise<number> {
  const sql = postgres(serviceDbUrl("notification"), { max: 1, onnotice: () => {} });
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [r] = await sql<Array<{ n: number }>>`
        select count(*)::int as n from notifications where status = 1`;
      if (r!.n === 0 || Date.now() > deadline) return r!.n;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } finally {
    await sql.end();
  }
}
