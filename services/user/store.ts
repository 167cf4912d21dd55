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
  /** The version tokens are issued for; a password change replaces it (and revokes the old). */
  credential_version: string;
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
  credentialVersion: string;
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
    insert into users (id, email, first_name, last_name, roles, password_hash, credential_version)
    values (${u.id}, ${u.email}, ${u.firstName}, ${u.lastName}, ${u.roles as string[]},
            ${u.passwordHash}, ${u.credentialVersion})
    on conflict ((lower(email))) do nothing
    returning *`;
  return row;
}

/**
 * Replaces a password hash only if it is still the one the caller verified against, so two
 * concurrent changes cannot both win; returns whether it was replaced. Re-hashing the same
 * password (a cost upgrade) keeps the credential version.
 */
export async function replacePasswordHash(
  sql: Sql | Tx,
  id: string,
  expectedHash: string,
  newHash: string,
): Promise<boolean> {
  const rows = await sql`
    update users set password_hash = ${newHash}
    where id = ${id} and password_hash = ${expectedHash}
    returning id`;
  return rows.length === 1;
}

/**
 * Replaces a user's password (only if the hash is still `expectedHash`) and its credential
 * version, and records the old version as revoked, in one transaction: every token issued for
 * the old password stops working. Returns whether it was replaced.
 */
export async function replaceCredential(
  sql: Sql,
  id: string,
  expectedHash: string,
  newHash: string,
  newVersion: string,
): Promise<boolean> {
  return await sql.begin(async (tx) => {
    const [row] = await tx<Array<{ old: string }>>`
      update users u
      set password_hash = ${newHash}, credential_version = ${newVersion}, updated_at = now()
      from (select credential_version as old from users where id = ${id} for update) o
      where u.id = ${id} and u.password_hash = ${expectedHash}
      returning o.old`;
    if (!row) return false;
    await tx`
      insert into revoked_credentials (user_id, credential_version) values (${id}, ${row.old})
      on conflict do nothing`;
    return true;
  }) as boolean;
}

/** A replaced credential. */
export interface RevokedRow {
  user_id: string;
  credential_version: string;
}

/** The credentials replaced at most `maxAgeSeconds` ago. */
export async function listRevokedCredentials(
  sql: Sql,
  maxAgeSeconds: number,
): Promise<RevokedRow[]> {
  return await sql<RevokedRow[]>`
    select user_id, credential_version from revoked_credentials
    where revoked_at > now() - make_interval(secs => ${maxAgeSeconds})
    order by revoked_at`;
}

/** The hash of the admin password the operator configured last, if any. */
export async function configuredAdminPassword(
  sql: Sql | Tx,
  email: string,
): Promise<string | undefined> {
  const [row] = await sql<Array<{ configured_password_hash: string }>>`
    select configured_password_hash from admin_bootstrap where email = lower(${email})`;
  return row?.configured_password_hash;
}

/** Remembers the admin password the operator configured (as a hash). */
export async function rememberConfiguredAdminPassword(
  sql: Sql | Tx,
  email: string,
  hash: string,
): Promise<void> {
  await sql`
    insert into admin_bootstrap (email, configured_password_hash) values (lower(${email}), ${hash})
    on conflict (email) do update
    set configured_password_hash = excluded.configured_password_hash, applied_at = now()`;
}

/** Adds a role to a user unless it already has it; returns the row afterwards. */
export async function grantRole(tx: Tx, id: string, role: string): Promise<UserRow | undefined> {
  await tx`
    update users set roles = array_append(roles, ${role}), updated_at = now()
    where id = ${id} and not (${role} = any(roles))`;
  return findUserById(tx, id);
}
