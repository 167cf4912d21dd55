/**
 * The first administrator. Nobody can register as an admin, so at start-up the service makes sure
 * the configured account exists and holds the admin role:
 *
 * - missing: created with the configured password (and announced with `user.state.created`, like
 *   any user);
 * - an admin already: the configured password is applied when the operator configured a new one
 *   (a scrypt hash of the last configured password is kept), so setting `STOCKLET_ADMIN_PASSWORD`
 *   later takes effect, while a password changed through the API sticks across restarts as long
 *   as the configuration stays the same; applying it revokes the admin's tokens;
 * - an account that is not an admin (someone registered the address first): never promoted —
 *   that would hand the admin role to whoever registered it. The service refuses to start until
 *   the operator picks another address.
 *
 * Outside development the password must be of reasonable strength ({@linkcode adminPasswordProblem}).
 * @module
 */
import { ADMIN_ROLE } from "@stocklet/shared/auth";
import { type Sql, transaction } from "@stocklet/shared/db";
import { uuidv7 } from "@stocklet/shared/ids";
import { getLog } from "@stocklet/shared/logging";
import { hashPassword, newCredentialVersion, verifyPassword } from "./password.ts";
import { createUser } from "./rpc.ts";
import {
  configuredAdminPassword,
  findUserByEmail,
  rememberConfiguredAdminPassword,
  replaceCredential,
  type UserRow,
} from "./store.ts";

const log = getLog("user", "admin");

/** The development admin's email (`STOCKLET_ADMIN_EMAIL`). */
export const DEFAULT_ADMIN_EMAIL = "admin@stocklet.local";
/** The development admin's password; `deno task dev` passes it, nothing else may use it. */
export const DEV_ADMIN_PASSWORD = "stocklet-admin";

/**
 * Passwords published with Stocklet (the dev and test stacks' accounts) and the commonest
 * defaults: refused as an admin password outside development whatever their length.
 */
export const PUBLISHED_PASSWORDS: readonly string[] = [
  DEV_ADMIN_PASSWORD,
  "stocklet-demo",
  "test-admin-password",
  "changeme",
  "change-me",
  "password",
  "administrator",
  "admin-password",
  "adminadmin",
  "letmein",
  "123456789012",
  "qwertyuiop",
];

/** The shortest admin password accepted outside development. */
export const MIN_ADMIN_PASSWORD_LENGTH = 12;

/**
 * Why a password is too weak for the admin account, or undefined when it is fine: at least
 * {@linkcode MIN_ADMIN_PASSWORD_LENGTH} characters (at most 128, as for every user), at least 6
 * different characters, not one of the {@linkcode PUBLISHED_PASSWORDS}, and not the email.
 *
 * @example
 * ```ts
 * adminPasswordProblem("stocklet-admin", "admin@x.io"); // "is a published default password"
 * adminPasswordProblem("vivid-otter-harbour-42", "admin@x.io"); // undefined
 * ```
 */
export function adminPasswordProblem(password: string, email: string): string | undefined {
  if (password.length < MIN_ADMIN_PASSWORD_LENGTH) {
    return `must be at least ${MIN_ADMIN_PASSWORD_LENGTH} characters`;
  }
  if (password.length > 128) return "must be at most 128 characters";
  const lower = password.toLowerCase();
  if (PUBLISHED_PASSWORDS.includes(lower)) return "is a published default password";
  if (new Set(password).size < 6) return "must use at least 6 different characters";
  if (lower === email.toLowerCase() || lower === email.toLowerCase().split("@")[0]) {
    return "must not be the email address";
  }
  return undefined;
}

/** Who the bootstrap admin is. */
export interface AdminAccount {
  email: string;
  password: string;
}

/** What {@linkcode bootstrapAdmin} did. */
export type AdminOutcome = "created" | "password applied" | "unchanged";

/** The admin email belongs to an account that is not an admin: the service must not start. */
export class AdminEmailTaken extends Error {
  override readonly name = "AdminEmailTaken";
  constructor(email: string) {
    super(
      `STOCKLET_ADMIN_EMAIL ${email} belongs to an account without the admin role (someone ` +
        "registered it first). It is never promoted automatically: choose another address.",
    );
  }
}

/**
 * Ensures the admin account exists with the admin role and the configured password (see the
 * module doc). Idempotent; two instances starting at once converge on one row: the insert is
 * `on conflict do nothing` on the email's unique index, so the loser finds the winner's row.
 *
 * @returns What was done, and the admin's row.
 * @throws AdminEmailTaken when the email belongs to a non-admin account.
 */
export async function bootstrapAdmin(
  sql: Sql,
  admin: AdminAccount,
): Promise<{ outcome: AdminOutcome; user: UserRow }> {
  let existing = await findUserByEmail(sql, admin.email);
  if (!existing) {
    // Hash outside the transaction; wasted only in the rare race another instance wins.
    const passwordHash = await hashPassword(admin.password);
    const created = await transaction(sql, "bootstrap admin", async (tx) => {
      const row = await createUser(tx, {
        id: uuidv7(),
        email: admin.email,
        firstName: "Stocklet",
        lastName: "Admin",
        roles: [ADMIN_ROLE],
        passwordHash,
        credentialVersion: newCredentialVersion(),
      });
      if (row) await rememberConfiguredAdminPassword(tx, admin.email, passwordHash);
      return row;
    });
    if (created) {
      log.info("created the admin account {email}", { email: admin.email, userId: created.id });
      return { outcome: "created", user: created };
    }
    existing = await findUserByEmail(sql, admin.email);
    if (!existing) throw new Error(`admin ${admin.email} neither inserted nor found`);
  }
  if (!existing.roles.includes(ADMIN_ROLE)) throw new AdminEmailTaken(admin.email);
  const lastConfigured = await configuredAdminPassword(sql, admin.email);
  if (lastConfigured && await verifyPassword(admin.password, lastConfigured)) {
    log.info("the admin account {email} exists", { email: admin.email, userId: existing.id });
    return { outcome: "unchanged", user: existing };
  }
  // A password the operator has not configured before: apply it (and revoke the admin's tokens).
  const newHash = await hashPassword(admin.password);
  const replaced = await replaceCredential(
    sql,
    existing.id,
    existing.password_hash,
    newHash,
    newCredentialVersion(),
  );
  if (replaced) {
    await rememberConfiguredAdminPassword(sql, admin.email, newHash);
    log.warn("applied the configured password to the admin account {email}", {
      email: admin.email,
    });
  }
  const user = await findUserByEmail(sql, admin.email) ?? existing;
  return { outcome: "password applied", user };
}
