/**
 * The users' SQL. Emails compare case-insensitively everywhere (the unique index is on
 * `lower(email)`); writes that publish events take the caller's transaction.
 * @module
 */
import type { Sql, Tx } from "@stocklet/shared/db";

/** A `users` row. */
export interface UserRow {
  id: string;
  email: string;
  first_name: string;
  last_name: string;
  roles: string[];
  password_hash: string;
  created_at: Date;
  updated_at: Date | null;
}

/** What a new user is made of. */
export interface NewUser {
  id: string;
  email: string;
  firstName: string;
  lastName: string;
  roles: readonly string[];
  passwordHash: string;
}

/** One user by id, or undefined. */
export async function findUserById(sql: Sql | Tx, id: string): Promise<UserRow | undefined> {
  const [row] = await sql<UserRow[]>`select * from users where id = ${id}`;
  return row;
}

/** One user by email, whatever its case, or undefined. */
export async function findUserByEmail(sql: Sql | Tx, email: string): Promise<UserRow | undefined> {
  const [row] = await sql<UserRow[]>`select * from users where lower(email) = lower(${email})`;
  return row;
}

/**
 * Inserts a user unless the email is taken (in any case); returns the row, or undefined when taken.
 * `on conflict` rather than catching the unique violation keeps the transaction usable and makes
 * two concurrent registrations of one address resolve to exactly one row.
 */
export async function insertUser(tx: Tx, u: NewUser): Promise<UserRow | undefined> {
  const [row] = await tx<UserRow[]>`
    insert into users (id, email, first_name, last_name, roles, password_hash)
    values (${u.id}, ${u.email}, ${u.firstName}, ${u.lastName}, ${u.roles as string[]},
            ${u.passwordHash})
    on conflict ((lower(email))) do nothing
    returning *`;
  return row;
}

/**
 * Replaces a password hash only if it is still the one the caller verified against, so two
 * concurrent changes cannot both win; returns whether it was replaced.
 */
export async function replacePasswordHash(
  sql: Sql,
  id: string,
  expectedHash: string,
  newHash: string,
): Promise<boolean> {
  const rows = await sql`
    update users set password_hash = ${newHash}, updated_at = now()
    where id = ${id} and password_hash = ${expectedHash}
    returning id`;
  return rows.length === 1;
}

/** Adds a role to a user unless it already has it; returns the row afterwards. */
export async function grantRole(tx: Tx, id: string, role: string): Promise<UserRow | undefined> {
  await tx`
    update users set roles = array_append(roles, ${role}), updated_at = now()
    where id = ${id} and not (${role} = any(roles))`;
  return findUserById(tx, id);
}
