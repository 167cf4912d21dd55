/**
 * How many client connections the edge is serving: the distinct client address-and-port pairs that
 * sent a request within the last window (one second). The edge tells a caller it refuses for
 * capacity to close its connection only while this is above a bound (Envoy's
 * `disable_http_keepalive` overload action, which it takes on a resource's pressure, not always).
 *
 * Why not always: at the onset of an overload each caller waits, so each next request opens another
 * connection, and closing those as they are refused keeps the edge's sockets bounded (1,093 held at
 * twice the bench's peak offered without it, at most 258 with it). But once the overload is steady
 * the refusals are immediate and a few connections carry them all; closing each one then makes
 * every refused caller connect again, which costs the client about 0.15 ms and the edge 0.05 ms of
 * CPU per refusal (measured at 300 refusals/s): CPU taken from the orders still admitted.
 *
 * A connection idle for longer than the window is not counted; only a refused request can be told
 * to close, so the count only has to be right while requests arrive, which is when it is taken.
 * @module
 */

/**
 * The bound of {@linkcode connectionCrowd} by default: the connections a closed loop of the bench's
 * peak (128 orders in flight) keeps in use, so that only more than a peak's worth is a crowd.
 */
export const DEFAULT_CLOSE_REFUSED_ABOVE = 128;

/** Options of {@linkcode connectionCrowd}. */
export interface CrowdOptions {
  /** Connections in use above which the edge is crowded; 0: always crowded. @default 128 */
  bound?: number;
  /** How long a connection counts after its last request (ms). @default 1000 */
  windowMs?: number;
  /** The clock (ms). @default performance.now */
  now?: () => number;
}

/** The client connections in use, as seen from their requests. */
export interface ConnectionCrowd {
  /** Notes a request's client address (none: not counted, e.g. a handler called in-process). */
  seen(addr: Deno.Addr | undefined): void;
  /** Whether more connections than the bound sent a request within the window. */
  crowded(): boolean;
}

/**
 * Counts client connections by the requests they send, in two windows: the one in progress and the
 * one before (a connection seen in either counts, so the count never drops to zero at a boundary).
 *
 * @example
 * ```ts
 * const crowd = connectionCrowd({ bound: 128 });
 * crowd.seen(info.remoteAddr);
 * if (refusedForCapacity && crowd.crowded()) res.headers.set("connection", "close");
 * ```
 */
export function connectionCrowd(opts: CrowdOptions = {}): ConnectionCrowd {
  const bound = opts.bound ?? DEFAULT_CLOSE_REFUSED_ABOVE;
  const windowMs = opts.windowMs ?? 1000;
  const now = opts.now ?? (() => performance.now());
  let current = new Set<string>();
  let previous = new Set<string>();
  let windowEnd = now() + windowMs;
  const rotate = (): void => {
    const t = now();
    if (t < windowEnd) return;
    // More than a whole window without a rotation: the previous one saw nothing.
    previous = t < windowEnd + windowMs ? current : new Set();
    current = new Set();
    windowEnd = t + windowMs - ((t - windowEnd) % windowMs);
  };
  return {
    seen(addr) {
      if (bound === 0 || addr === undefined || addr.transport !== "tcp") return;
      rotate();
      current.add(`${addr.hostname}:${addr.port}`);
    },
    crowded() {
      if (bound === 0) return true;
      rotate();
      if (current.size + previous.size <= bound) return false;
      let n = current.size;
      for (const key of previous) if (!current.has(key) && ++n > bound) return true;
      return n > bound;
    },
  };
}
