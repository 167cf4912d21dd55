/**
 * The public user API: registration (public) and profiles (the user's own, or any to an admin).
 * Registering publishes `user.state.created` in the same transaction as the insert, so payment
 * opens the customer's balance exactly when the account exists. Registration answers the same
 * whether or not the email was free — as login does — so it cannot be used to find out who has
 * an account.
 * @module
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { requireOwnerOrAdmin } from "@stocklet/shared/auth";
import { type Sql, transaction, type Tx } from "@stocklet/shared/db";
import { notFound } from "@stocklet/shared/errors";
import { getLog } from "@stocklet/shared/logging";
import { uuidv7 } from "@stocklet/shared/ids";
import { events, user } from "@stocklet/shared/proto";
import { bindService, type ServiceBinding } from "@stocklet/shared/server";
import { serviceInfo } from "@stocklet/shared/service_info";
import { hashPassword, newCredentialVersion } from "./password.ts";
import { findUserById, insertUser, type NewUser, type UserRow } from "./store.ts";

const log = getLog("user", "registration");

/** The role every registered user gets. */
export const CUSTOMER_ROLE = "customer";

/** The one answer to a registration, whether the email was free or not. */
export const REGISTERED = "registered: log in with your email and password";

/** The wire form of a row; the password hash never leaves the service. */
export function toUser(row: UserRow): user.User {
  return create(user.UserSchema, {
    id: row.id,
    email: row.email,
    firstName: row.first_name,
    lastName: row.last_name,
    roles: row.roles,
    createdAt: timestampFromDate(row.created_at),
    ...(row.updated_at ? { updatedAt: timestampFromDate(row.updated_at) } : {}),
  });
}

/**
 * Inserts a user and queues its `user.state.created` event in the caller's transaction; returns
 * the row, or undefined when the email is already registered (nothing is published then).
 */
export async function createUser(tx: Tx, u: NewUser): Promise<UserRow | undefined> {
  const row = await insertUser(tx, u);
  if (!row) return undefined;
  tx.publish("user.state.created", row.id, events.UserCreatedEventSchema, {
    revision: 1,
    userId: row.id,
    email: row.email,
    firstName: row.first_name,
    lastName: row.last_name,
  });
  return row;
}

/** The UserService handlers. */
export function userRpc(sql: Sql): ServiceBinding {
  return bindService(user.UserService, {
    serviceInfo: () => Promise.resolve(serviceInfo("user")),

    async viewUser(req, ctx) {
      // Authorise before looking up, so that a stranger cannot probe which ids exist.
      requireOwnerOrAdmin(ctx.principal, req.id);
      const row = await findUserById(sql, req.id);
      if (!row) throw notFound("user");
      return { user: toUser(row) };
    },

    async registerUser(req) {
      // Hash before the transaction: 40 ms of scrypt must not hold a connection and locks.
      const passwordHash = await hashPassword(req.password);
      const row = await transaction(sql, "register user", (tx) =>
        createUser(tx, {
          id: uuidv7(),
          email: req.email,
          firstName: req.firstName,
          lastName: req.lastName,
          roles: [CUSTOMER_ROLE],
          passwordHash,
          credentialVersion: newCredentialVersion(),
        }));
      // A taken email changes nothing and is answered like a new one: the caller learns nothing
      // about the account (logging in with the password just chosen fails, as for any stranger).
      if (!row) log.info("registration for an email already registered; nothing changed");
      return { detail: REGISTERED };
    },
  });
}
