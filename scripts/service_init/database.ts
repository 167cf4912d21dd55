/**
 * A service's place in PostgreSQL, made idempotently by an administrator: its database (shared or
 * its own, see `DbLayout` in shared/topology), a login role, and a schema the role owns and has as
 * its `search_path`. The role gets no other rights, so a service reads and writes only its own
 * tables, and a transaction left idle is cut off instead of holding locks.
 * @module
 */
import postgres from "postgres";
import type { DbPlacement } from "@stocklet/shared/topology";

/** A `postgres://` URL with another database (and, optionally, other credentials). */
export function withDatabase(
  url: string,
  database: string,
  login?: { user: string; password: string },
): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  if (login) {
    u.username = encodeURIComponent(login.user);
    u.password = encodeURIComponent(login.password);
  }
  return u.toString();
}

/** The database part of a `postgres://user:password@host:port/db` URL. */
export function parsePgUrl(
  url: string,
): { host: string; port: number; user: string; password: string; database: string } {
  const u = new URL(url);
  if (u.protocol !== "postgres:" && u.protocol !== "postgresql:") {
    throw new Error(`not a postgres:// URL: ${url}`);
  }
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 5432,
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: decodeURIComponent(u.pathname.replace(/^\//, "")),
  };
}

/** Creates a database unless it exists; true when it was created. */
export async function ensureDatabase(adminUrl: string, database: string): Promise<boolean> {
  const sql = postgres(withDatabase(adminUrl, "postgres"), { max: 1, onnotice: () => {} });
  try {
    const rows = await sql`select 1 from pg_database where datname = ${database}`;
    if (rows.length) return false;
    try {
      await sql`create database ${sql(database)}`;
    } catch (e) {
      if ((e as { code?: string }).code === "42P04") return false; // created meanwhile
      throw e;
    }
    return true;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** What {@linkcode ensurePlacement} did. */
export interface PlacementReport {
  createdDatabase: boolean;
  createdRole: boolean;
  createdSchema: boolean;
}

/**
 * Makes a service's database, role and schema (as an administrator). The role's password is set
 * every time, so a changed secret is applied; its search_path is its schema; a transaction idle
 * for 30 s is terminated (no service holds one open: an idle one is a bug that would hold locks
 * and the outbox purge's watermark back).
 */
export async function ensurePlacement(
  adminUrl: string,
  p: DbPlacement,
  password: string,
): Promise<PlacementReport> {
  const createdDatabase = await ensureDatabase(adminUrl, p.database);
  const sql = postgres(withDatabase(adminUrl, p.database), { max: 1, onnotice: () => {} });
  try {
    const [role] = await sql`select 1 from pg_roles where rolname = ${p.role}`;
    if (!role) {
      try {
        await sql`create role ${sql(p.role)} login`;
      } catch (e) {
        if ((e as { code?: string }).code !== "42710") throw e; // created meanwhile
      }
    }
    await sql.unsafe(
      `alter role ${ident(p.role)} with login password ${literal(password)}`,
    );
    await sql.unsafe(`alter role ${ident(p.role)} set search_path = ${ident(p.schema)}`);
    await sql.unsafe(
      `alter role ${ident(p.role)} set idle_in_transaction_session_timeout = '30s'`,
    );
    const [schema] = await sql`select 1 from pg_namespace where nspname = ${p.schema}`;
    if (!schema) {
      await sql.unsafe(
        `create schema if not exists ${ident(p.schema)} authorization ${ident(p.role)}`,
      );
    }
    // Only the owner uses the schema; PostgreSQL 15 already keeps everyone out of `public`.
    await sql.unsafe(`revoke all on schema ${ident(p.schema)} from public`);
    return { createdDatabase, createdRole: !role, createdSchema: !schema };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** A quoted SQL identifier. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A quoted SQL string literal. */
export function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
