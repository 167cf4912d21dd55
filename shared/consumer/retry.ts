/**
 * When a failed attempt is tried again, and for how long: transient failures (the database or the
 * broker away, a lost serialization race) are retried without limit, since they pass; other
 * failures a few times, then the message is dead-lettered. Waits double up to a cap.
 * @module
 */
import { isTransientDbError } from "../db.ts";
import { Code, ServiceError } from "../errors.ts";

/** Thrown by a reaction to ask for a retry without counting towards the dead-letter limit. */
export class RetryLater extends Error {
  override readonly name = "RetryLater";
}

/**
 * An attempt that neither succeeded nor failed in time. Transient: the usual cause is a database
 * connection that died under a query whose promise the driver then never settles (postgres.js
 * can lose one when the server goes away mid-write: porsager/postgres#1154), which would otherwise
 * hang the partition for good.
 */
export class AttemptTimeout extends Error {
  override readonly name = "AttemptTimeout";
  constructor(readonly ms: number) {
    super(`the attempt did not finish within ${ms} ms`);
  }
}

/** Whether a failure should be retried without limit (the dependency will come back). */
export function isTransient(err: unknown): boolean {
  if (err instanceof RetryLater || err instanceof AttemptTimeout) return true;
  if (err instanceof ServiceError) return err.code === Code.UNAVAILABLE;
  return isTransientDbError(err);
}

/** How a consumer retries. */
export interface RetryPolicy {
  /** Attempts before a non-transient failure is given up (dead-lettered). @default 5 */
  maxAttempts?: number;
  /** First wait; doubles up to maxBackoffMs. @default 50 */
  initialBackoffMs?: number;
  /** @default 5000 */
  maxBackoffMs?: number;
  /**
   * An attempt still unsettled after this is abandoned and tried again (its transaction, if its
   * connection is alive after all, either commits first, and the retry finds the events applied,
   * or never commits). @default 30000
   */
  attemptTimeoutMs?: number;
}

/** What {@linkcode retrying} needs from its surroundings. */
export interface RetryHooks {
  /** True once shutdown began: no more attempts. */
  stopping(): boolean;
  /** Waits ms (heartbeating the consumer group meanwhile). */
  sleep(ms: number): Promise<void>;
  /** Called before each retry. */
  onRetry?(err: unknown, attempt: number, transient: boolean): void;
}

/** How {@linkcode retrying} ended. */
export type Retried<T> =
  | { kind: "done"; value: T }
  | { kind: "gave-up"; error: unknown; attempts: number }
  | { kind: "aborted" };

/**
 * Runs `attempt` until it succeeds, retrying transient failures without limit and others up to
 * `maxAttempts` (`Infinity` to never give up), waiting in between; stops early when shutdown
 * begins.
 *
 * @example
 * ```ts
 * const r = await retrying(() => apply(event), { maxAttempts: 5 }, hooks);
 * if (r.kind === "gave-up") await deadLetter(event, r.error);
 * ```
 */
export async function retrying<T>(
  attempt: () => Promise<T>,
  policy: RetryPolicy,
  hooks: RetryHooks,
): Promise<Retried<T>> {
  const maxAttempts = policy.maxAttempts ?? 5;
  const maxDelay = policy.maxBackoffMs ?? 5000;
  let delay = policy.initialBackoffMs ?? 50;
  const timeoutMs = policy.attemptTimeoutMs ?? 30_000;
  let failures = 0;
  for (let n = 1;; n++) {
    if (hooks.stopping()) return { kind: "aborted" };
    try {
      return { kind: "done", value: await settledWithin(attempt(), timeoutMs) };
    } catch (err) {
      const transient = isTransient(err);
      if (!transient && ++failures >= maxAttempts) {
        return { kind: "gave-up", error: err, attempts: n };
      }
      hooks.onRetry?.(err, n, transient);
      await hooks.sleep(delay);
      delay = Math.min(delay * 2, maxDelay);
    }
  }
}

/** The promise's outcome, or an {@linkcode AttemptTimeout} once `ms` passed first. */
async function settledWithin<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AttemptTimeout(ms)), ms);
  });
  // An abandoned attempt may still fail later: that failure is nobody's to handle.
  p.catch(() => {});
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}
