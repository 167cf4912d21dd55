/**
 * The first administrator. Nobody can register as an admin, so at start-up the service makes sure
 * the configured account exists and holds the admin role: created (and announced with
 * `user.state.created`, like any user) when missing, promoted when it lacks the role, otherwise left
 * alone — its password is never reset, so changing it through the API sticks across restarts.
 * @module
 */
import { ADMIN_ROLE } from "@stocklet/shared/auth";
import { type Sql, transaction } from "@stocklet/shared/db";
import { uuidv7 } from "@stocklet/shared/ids";
import { getLog } from "@stocklet/shared/logging";
import { hashPassword } from "./password.ts";
import { createUser } from "./rpc.ts";
import { findUserByEmail, grantRole, type UserRow } from "./store.ts";

const log = getLog("user", "admin");

/** The development admin's email (`STOCKLET_ADMIN_EMAIL`). */
export const DEFAULT_ADMIN_EMAIL = "admin@stocklet.local";
/** The development admin's password (`STOCKLET_ADMIN_PASSWORD`); set your own outside dev. */
export const DEFAULT_ADMIN_PASSWORD = "stocklet-admin";

/** Who the bootstrap admin is. */
export interface AdminAccount {
  email: string;
  password: string;
}

/** What {@linkcode bootstrapAdmin} did. */
export type AdminOutcome = "created" | "promoted" | "unchanged";

/**
 * Ensures the admin account exists with the admin role. Idempotent; two instances starting at once
 * converge on one row: the insert is `on conflict do nothing` on the email's unique index, so the
 * loser finds the winner's row and only checks its role.
 *
 * @returns What was done, and the admin's row.
 */
export async function bootstrapAdmin(
  sql: Sql,
  admin: AdminAccount,
): Promise<{ outcome: AdminOutcome; user: UserRow }> {
  let existing = await findUserByEmail(sql, admin.email);
  if (!existing) {
    // Hash outside the transaction; wasted only in the rare race another instance wins.
    const passwordHash = await hashPassword(admin.password);
    const created = await transaction(sql, "bootstrap admin", (tx) =>
      createUser(tx, {
        id: uuidv7(),
        email: admin.email,
        firstName: "Stocklet",
        lastName: "Admin",
        roles: [ADMIN_ROLE],
        passwordHash,
      }));
    if (created) {
      log.info("created the admin account {email}", { email: admin.email, userId: created.id });
      return { outcome: "created", user: created };
    }
    existing = await findUserByEmail(sql, admin.email);
    if (!existing) throw new Error(`admin ${admin.email} neither inserted nor found`);
  }
  if (existing.roles.includes(ADMIN_ROLE)) {
    log.info("the admin account {email} exists", { email: admin.email, userId: existing.id });
    return { outcome: "unchanged", user: existing };
  }
  const promoted = await transaction(
    sql,
    "promote admin",
    (tx) => grantRole(tx, existing.id, ADMIN_ROLE),
  );
  log.warn("granted the admin role to the existing account {email}", { email: admin.email });
  return { outcome: "promoted", user: promoted ?? existing };
}
