/**
 * Outbox → consumer lag from the `created_at` header Debezium copies from the outbox row.
 * @module
 */

/**
 * Milliseconds from the outbox commit time in a `created_at` header (ISO 8601, microseconds
 * allowed, as Debezium writes it) to now; undefined when the header is absent or malformed.
 */
export function connectorLag(
  createdAt: string | undefined,
  now: number = Date.now(),
): number | undefined {
  if (!createdAt) return undefined;
  const t = parseTimestamp(createdAt);
  return t === undefined ? undefined : Math.max(0, now - t);
}

/** Parses an ISO 8601 timestamp or an epoch number (µs, ms or s), as Debezium may render it. */
export function parseTimestamp(raw: string): number | undefined {
  if (/^\d+$/.test(raw)) {
    const n = Number(raw);
    if (n > 1e15) return n / 1000; // microseconds
    if (n > 1e11) return n; // milliseconds
    return n * 1000; // seconds
  }
  const ms = Date.parse(raw);
  return Number.isNaN(ms) ? undefined : ms;
}
