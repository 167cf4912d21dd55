/**
 * The internal user API, served on gRPC only (no HTTP rule, so the REST gateway and the edge never
 * expose it): the auth service checks credentials here and changes passwords here. Neither call can
 * act on a user without that user's current password.
 * @module
 */
import {
  Code,
  notFound,
  permissionDenied,
  ServiceError,
  unauthenticated,
} from "@stocklet/shared/errors";
import { user } from "@stocklet/shared/proto";
import type { Sql } from "@stocklet/shared/db";
import { bindService, type ServiceBinding } from "@stocklet/shared/server";
import { hashPassword, verifyAgainstDummy, verifyPassword } from "./password.ts";
import { findUserByEmail, findUserById, replacePasswordHash } from "./store.ts";

/** The one answer to every failed login: it does not say whether the account exists. */
export const BAD_CREDENTIALS = "invalid email or password";

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
      return { userId: row.id, roles: row.roles };
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
      if (!(await replacePasswordHash(sql, row.id, row.password_hash, newHash))) {
        throw new ServiceError(Code.ABORTED, "password changed concurrently; try again");
      }
      return {};
    },
  });
}
