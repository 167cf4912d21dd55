/**
 * The stored signing keys. When `AUTH_PRIVATE_KEY` is not set, the newest stored key signs, so a
 * restart keeps every issued token valid; the very first start generates and stores one.
 * @module
 */
import type { JWK } from "jose";
import type { Sql } from "@stocklet/shared/db";
import { getLog } from "@stocklet/shared/logging";
import {
  generateSigningKey,
  parsePrivateKeyPem,
  type SigningKey,
  signingKeyFromJwk,
} from "./keys.ts";

const log = getLog("auth", "keys");

// Serialises the first start of several instances: whoever takes the lock first generates the
// key, the others wait and then read it, so all of them sign with (and publish) the same key.
const BOOTSTRAP_LOCK = "stocklet.auth.signing_keys";

/** The newest stored key, or undefined when there is none. */
export async function newestSigningKey(sql: Sql): Promise<SigningKey | undefined> {
  const [row] = await sql<Array<{ private_jwk: JWK }>>`
    select private_jwk from signing_keys order by created_at desc, kid desc limit 1`;
  return row ? signingKeyFromJwk(row.private_jwk) : undefined;
}

/**
 * The newest stored key; generates and stores one when the table is empty. Concurrent callers
 * (instances starting together) all get the same key.
 *
 * @returns The key and whether this call created it.
 */
export async function loadOrCreateSigningKey(
  sql: Sql,
): Promise<{ key: SigningKey; created: boolean }> {
  const existing = await newestSigningKey(sql);
  if (existing) return { key: existing, created: false };
  return await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtextextended(${BOOTSTRAP_LOCK}, 0))`;
    const [row] = await tx<Array<{ private_jwk: JWK }>>`
      select private_jwk from signing_keys order by created_at desc, kid desc limit 1`;
    if (row) return { key: await signingKeyFromJwk(row.private_jwk), created: false };
    const key = await generateSigningKey();
    await tx`
      insert into signing_keys (kid, private_jwk)
      values (${key.kid}, ${tx.json(key.privateJwk as Record<string, string>)})`;
    return { key, created: true };
  }) as { key: SigningKey; created: boolean };
}

/**
 * The signing key: `AUTH_PRIVATE_KEY` when set (operators own rotation then; it is not stored),
 * otherwise the newest stored key, generated and stored on the very first start.
 *
 * @param pem The value of `AUTH_PRIVATE_KEY`, or "" when unset.
 */
export async function resolveSigningKey(sql: Sql, pem: string): Promise<SigningKey> {
  if (pem) {
    const key = await parsePrivateKeyPem(pem);
    log.info("signing with AUTH_PRIVATE_KEY, kid {kid}", { kid: key.kid });
    return key;
  }
  const { key, created } = await loadOrCreateSigningKey(sql);
  log.info(created ? "generated and stored signing key {kid}" : "signing with stored key {kid}", {
    kid: key.kid,
  });
  return key;
}
