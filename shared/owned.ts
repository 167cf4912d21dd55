/**
 * A customer's resource as its owner (or an admin) sees it. Someone else's resource answers
 * NOT_FOUND exactly like one that does not exist: whether it exists is not the caller's business,
 * and ids cannot be probed.
 * @module
 */
import { isAdmin, type Principal, requireUser } from "./auth.ts";
import { notFound } from "./errors.ts";

/** A row that belongs to a customer. */
export interface Owned {
  /** The owning customer (null for rows written before the owner was known). */
  customer_id: string | null;
}

/**
 * Loads a row for the caller: UNAUTHENTICATED without a user (before any lookup), NOT_FOUND when the
 * row is missing or another customer's (unless the caller is an admin).
 *
 * @param what The resource's name in the error, e.g. "order".
 * @param find Loads the row.
 * @example
 * ```ts
 * const row = await findOwned(ctx.principal, "order", () => findOrder(sql, req.orderId));
 * ```
 */
export async function findOwned<T extends Owned>(
  principal: Principal | null | undefined,
  what: string,
  find: () => Promise<T | undefined>,
): Promise<T> {
  const user = requireUser(principal);
  const row = await find();
  if (!row || (row.customer_id !== user.userId && !isAdmin(user))) throw notFound(what);
  return row;
}
