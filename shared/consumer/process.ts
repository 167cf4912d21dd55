/**
 * What happens to one delivered message, independent of Kafka: decode, skip duplicates through the
 * inbox, run the reaction in a transaction, retry transient failures, dead-letter the rest.
 * @module
 */
import { type DescMessage, fromBinary, type MessageShape } from "@bufbuild/protobuf";
import { isTransientDbError, type Tx } from "../db.ts";
import { Code, ServiceError } from "../errors.ts";
import { isUuid } from "../ids.ts";
import type { EventMeta, Reaction } from "../reaction.ts";

/** A delivered record, as the runtime hands it over. */
export interface Delivery {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Uint8Array | null;
  /** Header values as UTF-8 strings (the first of repeated keys). */
  headers: Record<string, string>;
}

/** How processing ended. */
export type Outcome =
  | { kind: "applied" }
  | { kind: "duplicate" }
  | { kind: "filtered" }
  | { kind: "skipped"; reason: string }
  | { kind: "dead-lettered"; error: string; attempts: number }
  | { kind: "aborted" };

/** What {@linkcode processDelivery} needs from its surroundings. */
export interface ProcessDeps {
  /** The consumer's name (the inbox key). */
  consumer: string;
  reactions: ReadonlyMap<string, Reaction>;
  /** Runs fn in a database transaction. */
  transaction<T>(name: string, fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Writes the message to the dead-letter topic with the error. */
  deadLetter(d: Delivery, error: string, attempts: number): Promise<void>;
  /** True once shutdown began: retries stop and the message is left for the next owner. */
  stopping(): boolean;
  /** Waits ms (injected for tests). */
  sleep(ms: number): Promise<void>;
  /** Called before each retry. */
  onRetry?(d: Delivery, err: unknown, attempt: number, transient: boolean): void;
  /** Attempts before a non-transient failure is dead-lettered. @default 5 */
  maxAttempts?: number;
  /** First retry delay; doubles up to maxBackoffMs. @default 50 */
  initialBackoffMs?: number;
  /** @default 5000 */
  maxBackoffMs?: number;
  /**
   * Runs one event's handling inside its own span (the runtime opens a consumer span whose parent
   * is the event's `traceparent`, so the events it publishes continue that trace). Default: as is.
   */
  inSpan?<T>(d: Delivery, fn: () => Promise<T>): Promise<T>;
  /**
   * Runs a multi-event transaction exclusively. A batch locks the rows of several aggregates in
   * arrival order (e.g. the stock of several orders' products), so two batches running side by side
   * can deadlock; the runtime serialises them. Default: as is.
   */
  exclusive?<T>(fn: () => Promise<T>): Promise<T>;
}

/** Thrown by a reaction to ask for a retry without counting towards the dead-letter limit. */
export class RetryLater extends Error {
  override readonly name = "RetryLater";
}

/** Whether a failure should be retried without limit (the dependency will come back). */
export function isTransient(err: unknown): boolean {
  if (err instanceof RetryLater) return true;
  if (err instanceof ServiceError) return err.code === Code.UNAVAILABLE;
  return isTransientDbError(err);
}

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

/** The event metadata of a delivery whose `id` header is valid. */
export function metaOf(d: Delivery): EventMeta {
  const created = d.headers.created_at ? new Date(d.headers.created_at) : undefined;
  return {
    id: d.headers.id!,
    topic: d.topic,
    key: d.key ?? "",
    partition: d.partition,
    offset: d.offset,
    type: d.headers.type ?? "",
    ...(created && !Number.isNaN(created.getTime()) ? { createdAt: created } : {}),
  };
}

/**
 * Processes one delivery to completion. Never throws for bad input: it either applies the event
 * exactly once (per consumer), recognises a duplicate, or dead-letters it. It only gives up early
 * ("aborted") when shutdown begins, so that the uncommitted offset hands the message to the next run.
 */
export async function processDelivery(d: Delivery, deps: ProcessDeps): Promise<Outcome> {
  const reaction = deps.reactions.get(d.topic);
  if (!reaction) return { kind: "skipped", reason: `no reaction for ${d.topic}` };
  if (d.value === null) return { kind: "skipped", reason: "tombstone" };
  const id = d.headers.id;
  if (!id || !isUuid(id)) {
    return await deadLetter(d, deps, "missing or invalid `id` header", 1);
  }
  let event: MessageShape<DescMessage>;
  try {
    event = fromBinary(reaction.schema, d.value);
  } catch (err) {
    return await deadLetter(
      d,
      deps,
      `cannot decode ${reaction.schema.typeName}: ${describe(err)}`,
      1,
    );
  }
  if (reaction.filter && !reaction.filter(event)) return { kind: "filtered" };
  const meta = metaOf(d);
  const maxAttempts = deps.maxAttempts ?? 5;
  let delay = deps.initialBackoffMs ?? 50;
  const maxDelay = deps.maxBackoffMs ?? 5000;
  let failures = 0;
  for (let attempt = 1;; attempt++) {
    if (deps.stopping()) return { kind: "aborted" };
    try {
      const applied = await deps.transaction(`consume ${d.topic}`, async (tx) => {
        const fresh = await tx`
          insert into inbox (consumer, event_id, topic)
          values (${deps.consumer}, ${id}, ${d.topic})
          on conflict do nothing
          returning 1`;
        if (fresh.length === 0) return false;
        await (deps.inSpan ?? passThrough)(d, () => reaction.handle(event, tx, meta));
        return true;
      });
      return applied ? { kind: "applied" } : { kind: "duplicate" };
    } catch (err) {
      const transient = isTransient(err);
      if (!transient) failures++;
      if (!transient && failures >= maxAttempts) {
        return await deadLetter(d, deps, describe(err), attempt);
      }
      deps.onRetry?.(d, err, attempt, transient);
      await deps.sleep(delay);
      delay = Math.min(delay * 2, maxDelay);
    }
  }
}

const passThrough = <T>(_d: Delivery, fn: () => Promise<T>): Promise<T> => fn();

type Decoded =
  | { event: MessageShape<DescMessage> }
  | { outcome: Outcome }
  | { poison: string };

/** Decodes and filters a delivery: the event to apply, an outcome already, or why it is poison. */
function decode(d: Delivery, reaction: Reaction): Decoded {
  if (d.value === null) return { outcome: { kind: "skipped", reason: "tombstone" } };
  const id = d.headers.id;
  if (!id || !isUuid(id)) return { poison: "missing or invalid `id` header" };
  let event: MessageShape<DescMessage>;
  try {
    event = fromBinary(reaction.schema, d.value);
  } catch (err) {
    return { poison: `cannot decode ${reaction.schema.typeName}: ${describe(err)}` };
  }
  if (reaction.filter && !reaction.filter(event)) return { outcome: { kind: "filtered" } };
  return { event };
}

/**
 * Processes consecutive deliveries of one partition together: every event that needs applying is
 * applied, in order, in ONE transaction (one inbox insert for all, one outbox flush for all), which
 * is what keeps a busy consumer cheap. If that transaction fails for any reason, nothing of it
 * stands and each delivery goes through {@linkcode processDelivery} on its own, with its retries
 * and dead-lettering. Outcomes come back in input order.
 */
export async function processBatch(
  batch: readonly Delivery[],
  deps: ProcessDeps,
): Promise<Outcome[]> {
  const outcomes: Array<Outcome | undefined> = new Array(batch.length);
  const todo: Array<
    { i: number; d: Delivery; reaction: Reaction; event: MessageShape<DescMessage> }
  > = [];
  const ids = new Set<string>();
  for (const [i, d] of batch.entries()) {
    const reaction = deps.reactions.get(d.topic);
    if (!reaction) {
      outcomes[i] = { kind: "skipped", reason: `no reaction for ${d.topic}` };
      continue;
    }
    const decoded = decode(d, reaction);
    if ("outcome" in decoded) outcomes[i] = decoded.outcome;
    else if ("poison" in decoded) outcomes[i] = await deadLetter(d, deps, decoded.poison, 1);
    else if (ids.has(d.headers.id!)) outcomes[i] = { kind: "duplicate" };
    else {
      ids.add(d.headers.id!);
      todo.push({ i, d, reaction, event: decoded.event });
    }
  }
  if (todo.length === 1) {
    outcomes[todo[0]!.i] = await processDelivery(todo[0]!.d, deps);
  } else if (todo.length > 1) {
    if (deps.stopping()) return batch.map(() => ({ kind: "aborted" }));
    try {
      const exclusive = deps.exclusive ?? ((fn) => fn());
      const applied = await exclusive(() =>
        deps.transaction(`consume ${todo.length} events`, async (tx) => {
          const fresh = new Set(
            (await tx<{ event_id: string }[]>`
            insert into inbox (consumer, event_id, topic)
            select ${deps.consumer}, e.id, e.topic
            from unnest(${todo.map((t) => t.d.headers.id!)}::uuid[], ${
              todo.map((t) => t.d.topic)
            }::text[]) as e(id, topic)
            on conflict do nothing
            returning event_id`).map((r) => r.event_id),
          );
          const done = new Set<number>();
          for (const t of todo) {
            if (!fresh.has(t.d.headers.id!)) continue;
            await (deps.inSpan ?? passThrough)(
              t.d,
              () => t.reaction.handle(t.event, tx, metaOf(t.d)),
            );
            done.add(t.i);
          }
          return done;
        })
      );
      for (const t of todo) {
        outcomes[t.i] = applied.has(t.i) ? { kind: "applied" } : { kind: "duplicate" };
      }
    } catch {
      // Something in the batch failed: none of it was committed. One by one, with retries.
      for (const t of todo) outcomes[t.i] = await processDelivery(t.d, deps);
    }
  }
  return outcomes as Outcome[];
}

async function deadLetter(
  d: Delivery,
  deps: ProcessDeps,
  error: string,
  attempts: number,
): Promise<Outcome> {
  // A dead-letter write that fails is retried until it succeeds (or shutdown): losing the message
  // would be worse than stalling its partition.
  let delay = deps.initialBackoffMs ?? 50;
  for (;;) {
    try {
      await deps.deadLetter(d, error, attempts);
      return { kind: "dead-lettered", error, attempts };
    } catch (err) {
      if (deps.stopping()) return { kind: "aborted" };
      deps.onRetry?.(d, err, attempts, true);
      await deps.sleep(delay);
      delay = Math.min(delay * 2, deps.maxBackoffMs ?? 5000);
    }
  }
}
