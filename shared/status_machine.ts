/**
 * Status machines: a table of the moves a row's status may make. The domain owns the table; the
 * store guards each update with it (`where status = any(sourcesOf(to))`), so a late, repeated or
 * out-of-order event can never move a row backwards, whatever the interleaving.
 * @module
 */

/** The moves a status may make, and the statuses a move may start from. */
export interface StatusMachine<S extends number> {
  /** Whether a row may move from one status to another. */
  canMove(from: S, to: S): boolean;
  /** Every status a row may move to `to` from (empty: `to` is only ever a first status). */
  sourcesOf(to: S): S[];
  /** Whether a status allows no further move. */
  isFinal(status: S): boolean;
}

/**
 * A status machine from its table: status → the statuses it may move to. A status missing from the
 * table makes no move.
 *
 * @example
 * ```ts
 * const transitions = statusMachine<Status>({
 *   [Status.PROCESSING]: [Status.PENDING, Status.REJECTED],
 *   [Status.PENDING]: [Status.APPROVED, Status.REJECTED],
 * });
 * transitions.canMove(Status.PENDING, Status.APPROVED); // true
 * transitions.sourcesOf(Status.REJECTED); // [PROCESSING, PENDING]
 * ```
 */
export function statusMachine<S extends number>(
  next: Readonly<Partial<Record<S, readonly S[]>>>,
): StatusMachine<S> {
  const table = next as Readonly<Record<number, readonly S[] | undefined>>;
  const from = Object.keys(table).map(Number) as S[];
  return {
    canMove: (a, b) => table[a]?.includes(b) ?? false,
    sourcesOf: (to) => from.filter((a) => table[a]!.includes(to)),
    isFinal: (s) => (table[s]?.length ?? 0) === 0,
  };
}
