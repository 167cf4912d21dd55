/**
 * Spreading calls over a service's replicas: round robin over its base URLs, skipping for a while
 * one that refused a connection (it is gone or restarting), so a caller tries the next instead of
 * failing. A refused connection means the request was never sent, so trying another replica is
 * safe for any method; a connection dropped without an answer only for a safe method (GET);
 * other failures are the caller's to judge.
 * @module
 */

/** Options of {@linkcode Balancer}. */
export interface BalancerOptions {
  /** How long a replica that refused a connection is skipped (ms). @default 5000 */
  downForMs?: number;
  /** The clock (injected in tests). */
  now?: () => number;
}

/**
 * Round robin over replicas with passive health.
 *
 * @example
 * ```ts
 * const order = new Balancer(["http://127.0.0.1:8092", "http://127.0.0.1:8142"]);
 * const url = order.next();
 * // … the connection to url was refused:
 * order.refused(url); // skipped for 5 s; order.next() gives the other one
 * ```
 */
export class Balancer {
  readonly urls: readonly string[];
  #at = 0;
  #downUntil = new Map<string, number>();
  #downForMs: number;
  #now: () => number;

  constructor(urls: readonly string[], opts: BalancerOptions = {}) {
    if (!urls.length) throw new Error("a balancer needs at least one URL");
    this.urls = urls.map((u) => u.replace(/\/+$/, ""));
    this.#downForMs = opts.downForMs ?? 5_000;
    this.#now = opts.now ?? (() => performance.now());
  }

  /** The next replica to call: the next healthy one, or (all down) simply the next. */
  next(): string {
    const n = this.urls.length;
    const now = this.#now();
    for (let i = 0; i < n; i++) {
      const url = this.urls[(this.#at + i) % n]!;
      if ((this.#downUntil.get(url) ?? 0) <= now) {
        this.#at = (this.#at + i + 1) % n;
        return url;
      }
    }
    const url = this.urls[this.#at]!;
    this.#at = (this.#at + 1) % n;
    return url;
  }

  /** Marks a replica as gone for a while (it refused a connection). */
  refused(url: string): void {
    this.#downUntil.set(url.replace(/\/+$/, ""), this.#now() + this.#downForMs);
  }

  /** How many attempts a call may make: one per replica. */
  get attempts(): number {
    return this.urls.length;
  }
}

/**
 * Whether a fetch failed because the replica dropped the connection without answering (reset or
 * closed midway: it died or is shutting down). The request may have reached it, so only a
 * request that is safe to repeat (GET) may be sent to another replica after this.
 */
export function connectionDropped(err: unknown): boolean {
  let e: unknown = err;
  for (let i = 0; e && i < 4; i++) {
    const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    if (/connection (closed|reset)|broken pipe|incomplete message|os error 104/i.test(text)) {
      return true;
    }
    e = e instanceof Error ? e.cause : undefined;
  }
  return false;
}

/** Whether a fetch failed before the request was sent (the replica refused the connection). */
export function connectionRefused(err: unknown): boolean {
  let e: unknown = err;
  for (let i = 0; e && i < 4; i++) {
    const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    if (/connection refused|os error 111|ECONNREFUSED/i.test(text)) return true;
    e = e instanceof Error ? e.cause : undefined;
  }
  return false;
}
