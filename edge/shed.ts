/**
 * Shedding at the edge: once a service answered a route "at capacity" (429 with `Retry-After` and
 * `x-stocklet-at-capacity`, the order service's admission control), the edge answers that route's
 * next calls the same way itself for a short window, without forwarding them. Under overload most
 * calls are refused, and a refusal forwarded costs the edge a proxied request and the service a
 * request it parses, authenticates and refuses: CPU the saga then lacks (measured at twice the
 * peak offered: 81 % of the peak completed without this). The window is the service's own
 * granularity (the order service re-reads its in-flight count every 100 ms), so an order admitted
 * a window later would have been refused anyway. A 429 about one caller (a login locked out, a
 * rate limit) carries no at-capacity mark and sheds nothing.
 *
 * Between windows, while the route was at capacity within the last second, the edge also forwards
 * at most a few of its calls at once (32) and refuses the rest the same way. Why: an overloaded
 * service answers late (its event loop and its database are the saturated part), so the window
 * learns of each refusal late, and what is forwarded meanwhile waits inside the service, holding a
 * connection and its buffers at both ends: at twice the bench's peak offered the order service had
 * about 350 calls from the edge in progress. Away from capacity nothing is capped, so a burst at a
 * normal rate is never refused by this. What it cannot bound: the calls forwarded at the onset of
 * an overload, before the service first says it is at capacity (their connections then stay open
 * in the pools: the edge still held about 900 sockets after a 2× phase, against 1,075 without it).
 * @module
 */
import { AT_CAPACITY_HEADER } from "@stocklet/shared/errors";

/**
 * Whether an answer says its service is at capacity (429 marked with `x-stocklet-at-capacity`),
 * not that one caller is throttled.
 */
export function isAtCapacity(res: Response): boolean {
  return res.status === 429 && res.headers.has(AT_CAPACITY_HEADER);
}

/** What a route's last at-capacity answer said, and when. */
interface Busy {
  /** The end of the window in which every call is refused. */
  until: number;
  /** The end of the time in which calls in progress are capped. */
  capUntil: number;
  retryAfter: string;
  body: string;
}

/** Routes whose service said it is at capacity, for a window each. */
export interface ShedRoutes {
  /**
   * The edge's own answer for this route while its window lasts, or while it is capped and its
   * calls in progress are at the cap; undefined otherwise (forward it, within `forwarding`).
   */
  refusal(route: string): Response | undefined;
  /** Counts a forwarded call of this route as in progress until the returned function is called. */
  forwarding(route: string): () => void;
  /** Notes an upstream's answer to this route (only an at-capacity 429 opens a window). */
  learn(route: string, res: Response): Promise<void>;
}

/** Options of {@linkcode shedRoutes}. */
export interface ShedOptions {
  /** How long a route is refused after its service said it is at capacity (ms). @default 100 */
  windowMs?: number;
  /** The clock (ms). @default performance.now */
  now?: () => number;
  /**
   * Calls of a route forwarded at once while it was at capacity within `capMs`; 0: no cap.
   * @default 32
   */
  capConcurrency?: number;
  /** How long after its last at-capacity answer a route stays capped (ms). @default 1000 */
  capMs?: number;
}

/**
 * The shedding state of an edge.
 *
 * @example
 * ```ts
 * const shed = shedRoutes();
 * const refused = shed.refusal("OrderService.PlaceOrder");
 * if (refused) return refused;
 * const res = await forwardToOrder();
 * await shed.learn("OrderService.PlaceOrder", res);
 * ```
 */
export function shedRoutes(opts: ShedOptions = {}): ShedRoutes {
  const windowMs = opts.windowMs ?? 100;
  const capConcurrency = opts.capConcurrency ?? 32;
  const capMs = opts.capMs ?? 1000;
  const now = opts.now ?? (() => performance.now());
  const busy = new Map<string, Busy>();
  const inProgress = new Map<string, number>();
  const refuse = (b: Busy): Response =>
    new Response(b.body, {
      status: 429,
      headers: {
        "content-type": "application/json",
        "retry-after": b.retryAfter,
        [AT_CAPACITY_HEADER]: "1",
      },
    });
  return {
    refusal(route) {
      const b = busy.get(route);
      if (!b) return undefined;
      const t = now();
      if (t < b.until) return refuse(b);
      if (t >= b.capUntil) {
        busy.delete(route);
        return undefined;
      }
      const n = inProgress.get(route) ?? 0;
      return capConcurrency > 0 && n >= capConcurrency ? refuse(b) : undefined;
    },
    forwarding(route) {
      inProgress.set(route, (inProgress.get(route) ?? 0) + 1);
      let done = false;
      return () => {
        if (done) return;
        done = true;
        const n = (inProgress.get(route) ?? 1) - 1;
        if (n === 0) inProgress.delete(route);
        else inProgress.set(route, n);
      };
    },
    async learn(route, res) {
      if (!isAtCapacity(res)) return;
      const retryAfter = res.headers.get("retry-after");
      if (retryAfter === null) return;
      // The upstream's own words (a small JSON error) are kept to answer with; the response
      // itself still goes to this caller, from a copy.
      const body = await res.clone().text();
      const t = now();
      busy.set(route, {
        until: t + windowMs,
        capUntil: t + Math.max(capMs, windowMs),
        retryAfter,
        body,
      });
    },
  };
}
