/**
 * The internal user API, served on gRPC only (no HTTP rule, so the REST gateway and the edge never
 * expose it): the auth service checks credentials here, changes passwords here and reads the
 * credentials a change revoked. Neither call can act on a user without that user's current
 * password.
 * @module
 */
import {
  Code,
  notFound,
  permissionDenied,
  ServiceError,
  unauthenticated,
} from "@stocklet/shared/errors";
import { getLog } from "@stocklet/shared/logging";
import { user } from "@stocklet/shared/proto";
import type { Sql } from "@stocklet/shared/db";
import { bindService, type ServiceBinding } from "@stocklet/shared/server";
import {
  hashPassword,
  needsRehash,
  newCredentialVersion,
  verifyAgainstDummy,
  verifyPassword,
} from "./password.ts";
import {
  findUserByEmail,
  findUserById,
  listRevokedCredentials,
  replaceCredential,
  replacePasswordHash,
  type UserRow,
} from "./store.ts";

const log = getLog("user", "credentials");

/** The one answer to every failed login: it does not say whether the account exists. */
export const BAD_CREDENTIALS = "invalid email or password";

/**
 * Replaces a hash made with an older, cheaper cost by one with today's, now that the password is
 * at hand. Best effort: a failure (or a concurrent change, which wins) only leaves the old hash.
 */
async function upgradeHash(sql: Sql, row: UserRow, password: string): Promise<void> {
  if (!needsRehash(row.password_hash)) return;
  try {
    const upgraded = await hashPassword(password);
    if (await replacePasswordHash(sql, row.id, row.password_hash, upgraded)) {
      log.info("upgraded the password hash of {userId} to the current cost", { userId: row.id });
    }
  } catch (error) {
    log.warn("could not upgrade the password hash of {userId}: {error}", {
      userId: row.id,
      error,
    });
  }
}

/** The UserInternalService handlers. */
export function userInternalRpc(sql: Sql): ServiceBinding {
  return bindService(user.UserInternalService, {
    async verifyCredentials(req) {
      const { identity } = req;
      const row = identity.case === "email"
        ? await findUserByEmail(sql, identity.value)
        : identity.case === "userId"
        ? await findUserById(sql, identity.value)
        : undefined;
      // An unknown user costs one scrypt too, so the answer's timing does not reveal the account.
      const ok = row
        ? await verifyPassword(req.password, row.password_hash)
        : await verifyAgainstDummy(req.password);
      if (!row || !ok) throw unauthenticated(BAD_CREDENTIALS);
      await upgradeHash(sql, row, req.password);
      return { userId: row.id, roles: row.roles, credentialVersion: row.credential_version };
    },

    async changePassword(req) {
      const row = await findUserById(sql, req.userId);
      if (!row) {
        await verifyAgainstDummy(req.currentPassword);
        throw notFound("user");
      }
      // The current password is the proof: knowing a user id is never enough to take an account.
      if (!(await verifyPassword(req.currentPassword, row.password_hash))) {
        throw permissionDenied("current password is incorrect");
      }
      const newHash = await hashPassword(req.newPassword);
      // A new credential version revokes every token issued for the old password.
      if (
        !(await replaceCredential(sql, row.id, row.password_hash, newHash, newCredentialVersion()))
      ) {
        throw new ServiceError(Code.ABORTED, "password changed concurrently; try again");
      }
      return {};
    },

    async listRevokedCredentials(req) {
      const rows = await listRevokedCredentials(sql, req.maxAgeSeconds);
      return {
        revoked: rows.map((r) => ({ userId: r.user_id, credentialVersion: r.credential_version })),
      };
    },
  });
}
