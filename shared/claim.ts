/**
 * Claiming an order's one row, race-free. Every saga participant keeps one row per order (a
 * payment, a reservation, a shipment) that decides each of its steps once: the forward step claims
 * it with its outcome, a compensation claims it with a CANCELLED marker when nothing was done yet.
 *
 * The claim is `insert … on conflict do nothing returning`. When two transactions race for one
 * order, Postgres makes the second insert wait until the first commits and then reports the
 * conflict; the loser's next statement sees the committed row (READ COMMITTED), so it locks and
 * re-reads it and decides from its status: a compensation that finds the forward step done undoes
 * it, a forward step that finds the marker does nothing. A "select, else insert" has a window in
 * which both see no row, and the one whose insert loses silently does nothing: a refund or a stock
 * return lost for good.
 * @module
 */

/** How a claim ended: this transaction inserted the row, or another one had (here it is, locked). */
export type Claim<T> = { claimed: true } | { claimed: false; current: T };

/**
 * Claims a row: `insert` (which must be `… on conflict do nothing returning`, true when it
 * inserted) and, when the row existed, `lock` (`select … for update` of the same row).
 *
 * @example
 * ```ts
 * const claim = await claimRow(
 *   () => insertReservation(tx, { orderId, status: ReservationStatus.CANCELLED }),
 *   () => lockReservation(tx, orderId),
 * );
 * if (!claim.claimed && transitions.canMove(claim.current.status, RETURNED)) await giveBack(claim.current);
 * ```
 */
export async function claimRow<T>(
  insert: () => Promise<boolean>,
  lock: () => Promise<T | undefined>,
): Promise<Claim<T>> {
  if (await insert()) return { claimed: true };
  const current = await lock();
  // Rows are never deleted: a conflict without a row is a bug, not a race.
  if (current === undefined) throw new Error("the claimed row conflicted but cannot be read");
  return { claimed: false, current };
}
