/**
 * The stored signing keys. Every key that signs is recorded (its private half only when auth
 * generated it), with the time from which it signs (`not_before`):
 *
 * - the signing key is the one with the latest `not_before` in the past (or `AUTH_PRIVATE_KEY`);
 * - a generated key is rotated after a while: the new key is stored with a `not_before` a few
 *   minutes ahead, so every instance publishes it before any signs with it;
 * - the JWKS holds the upcoming key, the signing key, and every earlier key whose successor took
 *   over less than a token lifetime ago (its tokens may still be alive).
 * @module
 */
import type { JWK } from "jose";
import type { Sql } from "@stocklet/shared/db";
import { getLog } from "@stocklet/shared/logging";
import {
  ALG,
  generateSigningKey,
  parsePrivateKeyPem,
  type PublicEcJwk,
  type SigningKey,
  signingKeyFromJwk,
} from "./keys.ts";

const log = getLog("auth", "keys");

// Serialises key creation: whoever takes the lock first generates the key, the others wait and
// then read it, so all instances sign with (and publish) the same keys.
const KEYS_LOCK = "stocklet.auth.signing_keys";

/** Slack added to a token lifetime when deciding that a retired key can no longer be needed. */
const RETIRED_KEY_SLACK_SECONDS = 60;

/** The newest stored private key that already signs, or undefined when there is none. */
export async function newestSigningKey(sql: Sql): Promise<SigningKey | undefined> {
  const [row] = await sql<Array<{ private_jwk: JWK }>>`
    select private_jwk from signing_keys
    where private_jwk is not null and not_before <= now()
    order by not_before desc, kid desc limit 1`;
  return row ? signingKeyFromJwk(row.private_jwk) : undefined;
}

function publicPart(key: SigningKey): Record<string, string> {
  const { kty, crv, x, y } = key.publicJwk;
  return { kty, crv, x, y };
}

/**
 * The newest stored key; generates and stores one when there is none. Concurrent callers
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
    await tx`select pg_advisory_xact_lock(hashtextextended(${KEYS_LOCK}, 0))`;
    // clock_timestamp(), not now(): now() is when this transaction began, which can be before a
    // racing start that began later but took the lock first stored its key (not_before = its own
    // now()): that key would look not yet valid here, and a second one would be made.
    const [row] = await tx<Array<{ private_jwk: JWK }>>`
      select private_jwk from signing_keys
      where private_jwk is not null and not_before <= clock_timestamp()
      order by not_before desc, kid desc limit 1`;
    if (row) return { key: await signingKeyFromJwk(row.private_jwk), created: false };
    const key = await generateSigningKey();
    await tx`
      insert into signing_keys (kid, private_jwk, public_jwk, not_before)
      values (${key.kid}, ${tx.json(key.privateJwk as Record<string, string>)},
              ${tx.json(publicPart(key))}, now())`;
    return { key, created: true };
  }) as { key: SigningKey; created: boolean };
}

/**
 * Records an operator's key (public half only) and makes it the newest, so the keys it replaces
 * are published as previous ones for a token lifetime.
 */
export async function recordOperatorKey(sql: Sql, key: SigningKey): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtextextended(${KEYS_LOCK}, 0))`;
    await tx`
      insert into signing_keys (kid, private_jwk, public_jwk, not_before)
      values (${key.kid}, null, ${tx.json(publicPart(key))}, now())
      on conflict (kid) do update set not_before = now()
      where signing_keys.not_before < (select max(not_before) from signing_keys)`;
  });
}

/**
 * The signing key: `AUTH_PRIVATE_KEY` when set (operators own rotation then; only its public half
 * is stored), otherwise the newest stored key, generated and stored on the very first start.
 *
 * @param pem The value of `AUTH_PRIVATE_KEY`, or "" when unset.
 */
export async function resolveSigningKey(sql: Sql, pem: string): Promise<SigningKey> {
  if (pem) {
    const key = await parsePrivateKeyPem(pem);
    await recordOperatorKey(sql, key);
    log.info("signing with AUTH_PRIVATE_KEY, kid {kid}", { kid: key.kid });
    return key;
  }
  const { key, created } = await loadOrCreateSigningKey(sql);
  log.info(created ? "generated and stored signing key {kid}" : "signing with stored key {kid}", {
    kid: key.kid,
  });
  return key;
}

/**
 * Rotates the generated keys when the signing one is older than `maxAgeMs` and no successor is
 * waiting: stores a new key that signs from `leadMs` on. Safe to call from every instance.
 *
 * @returns The new key's kid, or undefined when no rotation was due.
 */
export async function rotateIfDue(
  sql: Sql,
  maxAgeMs: number,
  leadMs: number,
): Promise<string | undefined> {
  return await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtextextended(${KEYS_LOCK}, 0))`;
    const [state] = await tx<Array<{ due: boolean; waiting: boolean }>>`
      select
        coalesce(max(not_before) filter (where not_before <= now()), '-infinity')
          < now() - make_interval(secs => ${maxAgeMs / 1000}) as due,
        count(*) filter (where not_before > now()) > 0 as waiting
      from signing_keys`;
    if (!state || !state.due || state.waiting) return undefined;
    const key = await generateSigningKey();
    await tx`
      insert into signing_keys (kid, private_jwk, public_jwk, not_before)
      values (${key.kid}, ${tx.json(key.privateJwk as Record<string, string>)},
              ${tx.json(publicPart(key))}, now() + make_interval(secs => ${leadMs / 1000}))`;
    log.info("rotating the signing key: {kid} is published now and signs in {seconds} s", {
      kid: key.kid,
      seconds: leadMs / 1000,
    });
    return key.kid;
  }) as string | undefined;
}

/**
 * The keys the JWKS publishes: the upcoming one, the signing one, and every earlier key whose
 * successor took over less than `tokenTtlSeconds` (plus a minute) ago. Newest first.
 */
export async function publishedKeys(sql: Sql, tokenTtlSeconds: number): Promise<PublicEcJwk[]> {
  const rows = await sql<Array<{ kid: string; public_jwk: Record<string, string> }>>`
    with k as (
      select kid, public_jwk, not_before,
             lead(not_before) over (order by not_before, kid) as succeeded_at
      from signing_keys)
    select kid, public_jwk from k
    where not_before > now()
       or succeeded_at is null
       or succeeded_at > now() - make_interval(secs => ${
    tokenTtlSeconds + RETIRED_KEY_SLACK_SECONDS
  })
    order by not_before desc, kid desc`;
  return rows.map((r) => ({
    kty: r.public_jwk.kty!,
    use: "sig",
    alg: ALG,
    crv: r.public_jwk.crv!,
    x: r.public_jwk.x!,
    y: r.public_jwk.y!,
    kid: r.kid,
  }));
}
