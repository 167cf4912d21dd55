/**
 * Applying delivered events, independent of Kafka. A round of deliveries (every partition's new
 * records of one fetch) is applied in ONE transaction: one inbox claim for all, each event's
 * reaction in order, one outbox flush, one commit — what keeps a busy consumer cheap. If that
 * transaction fails, none of it stands and each event is applied on its own, retried, and
 * dead-lettered if it keeps failing. Records that can never be processed are dead-lettered at once.
 *
 * The claim is optimistic: it travels to PostgreSQL with the reactions' first statement instead of
 * a round trip of its own (a round trip is a socket write and a wake-up on both sides, the biggest
 * single cost of a consumer transaction), and a transaction whose claim finds an event already
 * applied — rare: a redelivery after a crash or a rebalance — is rolled back whole, its reactions'
 * writes and events with it, and the round is applied again with the claim first.
 * @module
 */
import type { Tx } from "../db.ts";
import { decode, type Delivery, describe } from "./delivery.ts";
import { claim } from "./inbox.ts";
import type { EventMeta, Reaction } from "./reaction.ts";
import { type RetryHooks, retrying, type RetryPolicy } from "./retry.ts";
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";

/** How processing a delivery ended. */
export type Outcome =
  | { kind: "applied" }
  | { kind: "duplicate" }
  | { kind: "filtered" }
  | { kind: "skipped"; reason: string }
  | { kind: "dead-lettered"; error: string; attempts: number }
  /** Shutdown began first: its offset stays unresolved, the next owner gets it. */
  | { kind: "aborted" };

/** What applying needs from its surroundings. */
export interface ApplyDeps {
  /** The consumer's name (the inbox key). */
  consumer: string;
  reactions: ReadonlyMap<string, Reaction>;
  /** Runs fn in a database transaction (with the outbox). */
  transaction<T>(name: string, fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Writes a delivery to the dead-letter topic. */
  deadLetter(d: Delivery, error: string, attempts: number): Promise<void>;
  retry: RetryPolicy;
  /** Shutdown, waits and the retry hook (told which delivery failed). */
  hooks: Omit<RetryHooks, "onRetry"> & {
    onRetry?(d: Delivery, err: unknown, attempt: number, transient: boolean): void;
  };
  /**
   * Runs one event's reaction inside its own span (the runtime opens a consumer span whose parent
   * is the event's `traceparent`, so the events it publishes continue that trace). Default: as is.
   */
  inSpan?<T>(d: Delivery, fn: () => Promise<T>): Promise<T>;
}

interface Todo {
  i: number;
  d: Delivery;
  reaction: Reaction;
  event: MessageShape<DescMessage>;
  meta: EventMeta;
}

const passThrough = <T>(_d: Delivery, fn: () => Promise<T>): Promise<T> => fn();

/**
 * Applies deliveries (each partition's in offset order) and returns their outcomes in input order.
 * Never throws for bad input or failing reactions.
 */
export async function applyRound(
  deliveries: readonly Delivery[],
  deps: ApplyDeps,
): Promise<Outcome[]> {
  const outcomes: Array<Outcome | undefined> = new Array(deliveries.length);
  const poison: Array<{ i: number; error: string }> = [];
  const todo: Todo[] = [];
  const ids = new Set<string>();
  for (const [i, d] of deliveries.entries()) {
    const x = decode(d, deps.reactions);
    if (x.kind === "ignored") {
      outcomes[i] = x.outcome === "filtered"
        ? { kind: "filtered" }
        : { kind: "skipped", reason: x.reason };
    } else if (x.kind === "poison") poison.push({ i, error: x.error });
    else if (ids.has(x.meta.id)) outcomes[i] = { kind: "duplicate" };
    else {
      ids.add(x.meta.id);
      todo.push({ i, d, reaction: x.reaction, event: x.event, meta: x.meta });
    }
  }
  if (todo.length === 1) outcomes[todo[0]!.i] = await applyAlone(todo[0]!, deps);
  else if (todo.length > 1) {
    const together = await applyTogether(todo, deps);
    if (together) { for (const [k, t] of todo.entries()) outcomes[t.i] = together[k]; }
    else {
      // Something in the round failed and none of it committed: one by one, with retries.
      for (const t of todo) outcomes[t.i] = await applyAlone(t, deps);
    }
  }
  // Poison last: a partition stopped by shutdown before it must not lose its place (the next owner
  // sees the poison again and dead-letters it then, once).
  const stoppedAt = new Map<number, number>();
  for (const [i, o] of outcomes.entries()) {
    const p = deliveries[i]!.partition;
    if (o?.kind === "aborted" && !stoppedAt.has(p)) stoppedAt.set(p, i);
  }
  for (const { i, error } of poison) {
    const stop = stoppedAt.get(deliveries[i]!.partition);
    outcomes[i] = stop !== undefined && stop < i
      ? { kind: "aborted" }
      : await deadLetter(deliveries[i]!, error, 1, deps);
  }
  return outcomes as Outcome[];
}

/**
 * The whole round in one transaction; undefined when it failed (nothing committed). A round holding
 * an event applied before is rolled back and tried once more with the claim awaited first, so that
 * a redelivered backlog (a replay, a rebalance) costs two transactions, not one per event.
 */
async function applyTogether(todo: Todo[], deps: ApplyDeps): Promise<Outcome[] | undefined> {
  if (deps.hooks.stopping()) return todo.map(() => ({ kind: "aborted" }));
  const inSpan = deps.inSpan ?? passThrough;
  const entries = todo.map((t) => ({ id: t.meta.id, topic: t.d.topic }));
  try {
    return await deps.transaction(`consume ${todo.length} events`, async (tx) => {
      await appliedOnce(claim(tx, deps.consumer, entries), todo.length, async () => {
        for (const t of todo) await inSpan(t.d, () => t.reaction.handle(t.event, tx, t.meta));
      });
      return todo.map((): Outcome => ({ kind: "applied" }));
    });
  } catch (e) {
    if (e !== ALREADY_APPLIED) return undefined; // failed: one by one, with retries
  }
  try {
    return await deps.transaction(`consume ${todo.length} events`, async (tx) => {
      const fresh = await claim(tx, deps.consumer, entries);
      const out: Outcome[] = [];
      for (const t of todo) {
        if (!fresh.has(t.meta.id)) {
          out.push({ kind: "duplicate" });
          continue;
        }
        await inSpan(t.d, () => t.reaction.handle(t.event, tx, t.meta));
        out.push({ kind: "applied" });
      }
      return out;
    });
  } catch {
    return undefined;
  }
}

/** Thrown inside a transaction to roll it back: an event it applied had been applied before. */
const ALREADY_APPLIED = Symbol("already applied");

/**
 * Runs reactions behind their optimistic claim (sent first, not awaited, so postgres.js writes it
 * with their first statement), then throws {@linkcode ALREADY_APPLIED} unless all `count` events
 * were new. A reaction that fails on an event applied before (a unique key it inserted then) is
 * a duplicate too, not a failure to retry.
 */
async function appliedOnce(
  claimed: Promise<Set<string>>,
  count: number,
  react: () => Promise<void>,
): Promise<void> {
  claimed.catch(noop); // awaited below; a failed claim fails the reactions' statements too
  try {
    await react();
  } catch (e) {
    const fresh = await claimed.catch(() => undefined);
    if (fresh && fresh.size < count) throw ALREADY_APPLIED;
    throw e;
  }
  if ((await claimed).size < count) throw ALREADY_APPLIED;
}

function noop(): void {}

/** One event in its own transaction, retried; dead-lettered when it keeps failing. */
async function applyAlone(t: Todo, deps: ApplyDeps): Promise<Outcome> {
  const inSpan = deps.inSpan ?? passThrough;
  const r = await retrying(
    async () => {
      try {
        return await deps.transaction(`consume ${t.d.topic}`, async (tx) => {
          const claimed = claim(tx, deps.consumer, [{ id: t.meta.id, topic: t.d.topic }]);
          await appliedOnce(
            claimed,
            1,
            () => inSpan(t.d, () => t.reaction.handle(t.event, tx, t.meta)),
          );
          return true;
        });
      } catch (e) {
        if (e === ALREADY_APPLIED) return false; // rolled back: it stands from its first time
        throw e;
      }
    },
    deps.retry,
    { ...deps.hooks, onRetry: (err, n, transient) => deps.hooks.onRetry?.(t.d, err, n, transient) },
  );
  if (r.kind === "aborted") return { kind: "aborted" };
  if (r.kind === "gave-up") return await deadLetter(t.d, describe(r.error), r.attempts, deps);
  return r.value ? { kind: "applied" } : { kind: "duplicate" };
}

/**
 * Writes a dead letter, retrying until it succeeds (or shutdown): losing the message would be
 * worse than stalling its partition.
 */
async function deadLetter(
  d: Delivery,
  error: string,
  attempts: number,
  deps: ApplyDeps,
): Promise<Outcome> {
  const r = await retrying(
    () => deps.deadLetter(d, error, attempts),
    { ...deps.retry, maxAttempts: Infinity },
    { ...deps.hooks, onRetry: (err, n) => deps.hooks.onRetry?.(d, err, n, true) },
  );
  return r.kind === "aborted" ? { kind: "aborted" } : { kind: "dead-lettered", error, attempts };
}
