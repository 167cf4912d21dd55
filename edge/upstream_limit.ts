/**
 * How much the edge asks of one service at once, as Envoy's circuit breakers bound a cluster
 * (`max_requests` in progress, `max_pending_requests` waiting for one of them; edge/envoy.ts
 * writes the same numbers). Past both the edge answers 503 with `Retry-After` itself, at once.
 *
 * The bound also caps the connections to a service: fetch opens one only when none is idle, so
 * never more than the calls in progress (it kept every connection a burst had opened before).
 *
 * Why a bound at all: without one, every call a slow service has not answered holds a client
 * connection, an upstream connection and their buffers in the edge and in the service. At twice
 * the bench's peak offered the edge held 1,383 client and 632 order connections and grew to 216 MiB
 * (50 idle), the order service to 130 MiB.
 *
 * Why the defaults are Envoy's own (1024 each) and not tighter: at 64 and 64 the edge stayed at
 * 104 MiB and the order service at 95 under that overload (the whole stack's peak about 60 MiB
 * lower), but the p99 at 150 orders/s was 778 and 1,201 ms in two runs against 308 and 311 without
 * the bound (the bench's short runs, 2026-12-01): under load a stalled service holds more than 64
 * calls, and those waiting here are the orders that then finish late. A deployment that prefers
 * bounded memory sets `STOCKLET_EDGE_UPSTREAM_MAX_REQUESTS` / `_MAX_PENDING` lower.
 * @module
 */
import { EdgeError } from "./errors.ts";

/** Default calls in progress per service (Envoy: `max_requests`). */
export const DEFAULT_UPSTREAM_MAX_REQUESTS = 1024;
/** Default calls waiting per service for one in progress to end (Envoy: `max_pending_requests`). */
export const DEFAULT_UPSTREAM_MAX_PENDING = 1024;

/** Options of {@linkcode upstreamLimits}. */
export interface UpstreamLimitOptions {
  /** Calls in progress per service. @default DEFAULT_UPSTREAM_MAX_REQUESTS */
  maxRequests?: number;
  /** Calls waiting per service; past them the edge answers 503. @default DEFAULT_UPSTREAM_MAX_PENDING */
  maxPending?: number;
}

/** The bounds of an edge, one pair per service. */
export interface UpstreamLimits {
  /**
   * Runs call within the service's bound: at once when a place is free, after a wait in line
   * otherwise (at most `timeoutMs`: 504), or not at all when the line is full (503 with
   * `Retry-After: 1`).
   */
  run<T>(service: string, timeoutMs: number, call: () => Promise<T>): Promise<T>;
  /** Calls in progress and waiting for a service. */
  usage(service: string): { active: number; pending: number };
}

/** A waiting call: resumed with its place, or dropped by its timer. */
interface Waiter {
  resume: () => void;
  timer: ReturnType<typeof setTimeout>;
}

interface Bound {
  active: number;
  line: Waiter[];
}

/**
 * The bounds of an edge.
 *
 * @example
 * ```ts
 * const limits = upstreamLimits({ maxRequests: 64, maxPending: 64 });
 * const res = await limits.run("order", 10_000, () => forwardToOrder());
 * ```
 */
export function upstreamLimits(opts: UpstreamLimitOptions = {}): UpstreamLimits {
  const maxRequests = opts.maxRequests ?? DEFAULT_UPSTREAM_MAX_REQUESTS;
  const maxPending = opts.maxPending ?? DEFAULT_UPSTREAM_MAX_PENDING;
  const bounds = new Map<string, Bound>();
  const boundOf = (service: string): Bound => {
    let b = bounds.get(service);
    if (!b) bounds.set(service, b = { active: 0, line: [] });
    return b;
  };
  // A place that ends goes to the first in line, if any, without ever being free in between.
  const release = (b: Bound): void => {
    const next = b.line.shift();
    if (next) {
      clearTimeout(next.timer);
      next.resume();
    } else b.active--;
  };
  const enter = (service: string, b: Bound, timeoutMs: number): Promise<void> | undefined => {
    if (b.active < maxRequests) {
      b.active++;
      return undefined;
    }
    if (b.line.length >= maxPending) throw full(service, b);
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resume: resolve,
        timer: setTimeout(() => {
          b.line.splice(b.line.indexOf(waiter), 1);
          reject(new EdgeError(504, `upstream ${service} timed out after ${timeoutMs} ms`));
        }, timeoutMs),
      };
      b.line.push(waiter);
    });
  };
  return {
    async run(service, timeoutMs, call) {
      const b = boundOf(service);
      const wait = enter(service, b, timeoutMs);
      if (wait) await wait;
      try {
        return await call();
      } finally {
        release(b);
      }
    },
    usage(service) {
      const b = bounds.get(service);
      return { active: b?.active ?? 0, pending: b?.line.length ?? 0 };
    },
  };
}

/** The edge's answer when a service's line is full: 503, `Retry-After: 1`. */
function full(service: string, b: Bound): EdgeError {
  return new EdgeError(
    503,
    `${service} is at capacity (${b.active} calls in progress, ${b.line.length} waiting); ` +
      `please retry in a moment`,
    undefined,
    1,
  );
}
