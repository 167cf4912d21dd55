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
 * @module
 */
import { AT_CAPACITY_HEADER } from "@stocklet/shared/errors";

/** What a route's last at-capacity answer said. */
interface Busy {
  until: number;
  retryAfter: string;
  body: string;
}

/** Routes whose service said it is at capacity, for a window each. */
export interface ShedRoutes {
  /** The edge's own answer for this route while its window lasts; undefined otherwise. */
  refusal(route: string): Response | undefined;
  /** Notes an upstream's answer to this route (only an at-capacity 429 opens a window). */
  learn(route: string, res: Response): Promise<void>;
}

/** Options of {@linkcode shedRoutes}. */
export interface ShedOptions {
  /** How long a route is refused after its service said it is at capacity (ms). @default 100 */
  windowMs?: number;
  /** The clock (ms). @default performance.now */
  now?: () => number;
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
  const now = opts.now ?? (() => performance.now());
  const busy = new Map<string, Busy>();
  return {
    refusal(route) {
      const b = busy.get(route);
      if (!b) return undefined;
      if (now() >= b.until) {
        busy.delete(route);
        return undefined;
      }
      return new Response(b.body, {
        status: 429,
        headers: {
          "content-type": "application/json",
          "retry-after": b.retryAfter,
          [AT_CAPACITY_HEADER]: "1",
        },
      });
    },
    async learn(route, res) {
      if (res.status !== 429 || res.headers.get(AT_CAPACITY_HEADER) === null) return;
      const retryAfter = res.headers.get("retry-after");
      if (retryAfter === null) return;
      // The upstream's own words (a small JSON error) are kept to answer with; the response
      // itself still goes to this caller, from a copy.
      const body = await res.clone().text();
      busy.set(route, { until: now() + windowMs, retryAfter, body });
    },
  };
}
