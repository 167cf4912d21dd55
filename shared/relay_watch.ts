/**
 * What the outbox relay has confirmed, seen from a service's own database connection: Debezium
 * confirms a WAL position (`confirmed_flush_lsn` of its replication slot) once the events before it
 * are in Kafka. A service cannot map its outbox rows to WAL positions directly, so every tick
 * records, in one statement, the clock, the WAL insert position and when the oldest transaction of
 * its role still open began. Once the slot confirms a recorded position, every row created before
 * that tick's watermark was written by a transaction that had ended (so committed below that
 * position) and was relayed: it may be purged. The same bookkeeping tells how far behind the relay
 * is, and whether its slot was lost.
 * @module
 */
import type postgres from "postgres";
import type { DbTypes } from "./db.ts";

/** One tick's record. */
interface Mark {
  /** The database clock at the tick (ms). */
  at: number;
  /** WAL insert position at the tick. */
  lsn: bigint;
  /** Rows created before this (ms) were written by transactions that had ended by the tick. */
  watermark: number;
}

/** The relay's state as last seen. */
export interface RelayState {
  /** The slot's state: `ok`, `missing` (no such slot), `lost` (invalidated) or `inactive`. */
  slot: "ok" | "missing" | "lost" | "inactive";
  /** Rows created before this were relayed (undefined: nothing confirmed yet). */
  relayedBefore?: Date;
  /** How long ago the newest confirmed tick was (ms); undefined before the first confirmation. */
  lagMs?: number;
  /** Since when the slot has been in a bad state (ms epoch). */
  badSince?: number;
}

/** Parses a PostgreSQL LSN (`16/B374D848`) into a number. */
export function parseLsn(lsn: string): bigint {
  const [hi, lo] = lsn.split("/");
  return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`);
}

/** Options of {@linkcode RelayWatch}. */
export interface RelayWatchOptions {
  /** Ticks kept (the confirmed tick must be among them). @default 600 */
  keep?: number;
}

/**
 * Follows one replication slot. Call {@linkcode RelayWatch.tick} periodically (every 1–2 s).
 *
 * @example
 * ```ts
 * const watch = new RelayWatch(sql, "stocklet_outbox");
 * const state = await watch.tick();
 * if (state.relayedBefore) await purgeOutbox(sql, state.relayedBefore);
 * ```
 */
export class RelayWatch {
  #marks: Mark[] = [];
  #state: RelayState = { slot: "missing" };

  constructor(
    readonly sql: postgres.Sql<DbTypes>,
    readonly slot: string,
    readonly opts: RelayWatchOptions = {},
  ) {}

  /** The state as of the last tick. */
  get state(): RelayState {
    return this.#state;
  }

  /** Records a tick and reads the slot. */
  async tick(): Promise<RelayState> {
    const [row] = await this.sql<
      {
        now_ms: string;
        lsn: string;
        oldest_ms: string | null;
        confirmed: string | null;
        wal_status: string | null;
        active: boolean | null;
      }[]
    >`
      select
        (extract(epoch from clock_timestamp()) * 1000)::bigint::text as now_ms,
        pg_current_wal_insert_lsn()::text as lsn,
        (select (extract(epoch from min(xact_start)) * 1000)::bigint::text
           from pg_stat_activity
           where usename = current_user and pid <> pg_backend_pid()
             and xact_start is not null) as oldest_ms,
        s.confirmed_flush_lsn::text as confirmed, s.wal_status, s.active
      from (select 1) one
      left join pg_replication_slots s on s.slot_name = ${this.slot}`;
    const at = Number(row!.now_ms);
    const oldest = row!.oldest_ms === null ? at : Number(row!.oldest_ms);
    this.#marks.push({ at, lsn: parseLsn(row!.lsn), watermark: Math.min(at, oldest) });
    const keep = this.opts.keep ?? 600;
    const slot: RelayState["slot"] = row!.confirmed === null
      ? "missing"
      : row!.wal_status === "lost"
      ? "lost"
      : row!.active
      ? "ok"
      : "inactive";
    let confirmed: Mark | undefined;
    if (row!.confirmed !== null && slot !== "lost") {
      const c = parseLsn(row!.confirmed);
      // The newest tick whose position the slot has confirmed; older ticks are of no more use.
      let i = this.#marks.length - 1;
      while (i >= 0 && this.#marks[i]!.lsn > c) i--;
      if (i >= 0) {
        confirmed = this.#marks[i];
        this.#marks.splice(0, i);
      }
    }
    if (this.#marks.length > keep) this.#marks.splice(0, this.#marks.length - keep);
    const badSince = slot === "ok" ? undefined : this.#state.badSince ?? Date.now();
    const since = confirmed ? confirmed : this.#lastConfirmed;
    if (confirmed) this.#lastConfirmed = confirmed;
    this.#state = {
      slot,
      ...(since ? { relayedBefore: new Date(since.watermark), lagMs: at - since.at } : {}),
      ...(badSince !== undefined ? { badSince } : {}),
    };
    return this.#state;
  }

  #lastConfirmed: Mark | undefined;
}

/**
 * Whether the relay is healthy enough to call this service ready: its slot exists and is not
 * lost, and it confirmed a position at most `maxLagMs` old (once it had time to).
 *
 * @returns An explanation when it is not, else undefined.
 */
export function relayProblem(
  state: RelayState,
  opts: { maxLagMs: number; startedAt: number; now?: number },
): string | undefined {
  const now = opts.now ?? Date.now();
  if (state.slot === "missing") return "the outbox relay's replication slot does not exist";
  if (state.slot === "lost") {
    return "the outbox relay's replication slot was invalidated (WAL removed): events are not relayed";
  }
  if (state.lagMs !== undefined && state.lagMs > opts.maxLagMs) {
    return `the outbox relay is ${Math.round(state.lagMs / 1000)} s behind`;
  }
  if (state.lagMs === undefined && now - opts.startedAt > opts.maxLagMs) {
    return `the outbox relay confirmed nothing in ${Math.round((now - opts.startedAt) / 1000)} s`;
  }
  return undefined;
}
