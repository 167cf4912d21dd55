/**
 * The keys one auth instance works with: the key it signs with and the key set it publishes,
 * both reloaded from the database every little while (so a rotation made by any instance reaches
 * all of them), and kept as they were while the database cannot be read.
 *
 * @example
 * ```ts
 * const ring = await openKeyRing(sql, { pem: "", tokenTtlSeconds: 86_400 });
 * ring.signing().kid;  // the key new tokens carry
 * ring.published();    // the JWKS: upcoming, current and still-needed previous keys
 * ```
 * @module
 */
import { JWKS_MAX_AGE_SECONDS } from "@stocklet/shared/auth";
import type { Sql } from "@stocklet/shared/db";
import { getLog } from "@stocklet/shared/logging";
import type { PublicEcJwk, SigningKey } from "./keys.ts";
import { newestSigningKey, publishedKeys, resolveSigningKey, rotateIfDue } from "./store.ts";

const log = getLog("auth", "keys");

/** What the auth handlers need of the keys. */
export interface Keys {
  /** The key new tokens are signed with. */
  signing(): SigningKey;
  /** The public keys of the JWKS, newest first. */
  published(): readonly PublicEcJwk[];
}

/** Options for {@linkcode openKeyRing}. */
export interface KeyRingOptions {
  /** `AUTH_PRIVATE_KEY`, or "" to use (and rotate) generated, stored keys. */
  pem: string;
  /** The token lifetime: a retired key stays published this long. */
  tokenTtlSeconds: number;
  /** A generated key is replaced once it has signed this long; 0: never. @default 30 days */
  rotateAfterMs?: number;
  /**
   * A new key is published this long before it signs: twice the longest a verifier (or Envoy)
   * caches the key set, so every one of them knows it in time. @default 2 × JWKS_MAX_AGE_SECONDS
   */
  publishLeadMs?: number;
}

/** A key ring with its reload. */
export interface KeyRing extends Keys {
  /** Rotates when due (generated keys only), then reloads the signing key and the key set. */
  refresh(): Promise<void>;
}

/** The key ring of a fixed key (tests; no database). */
export function fixedKeys(key: SigningKey, previous: readonly PublicEcJwk[] = []): Keys {
  const published = [key.publicJwk, ...previous];
  return { signing: () => key, published: () => published };
}

/** Loads the signing key (creating the first one) and the published set. */
export async function openKeyRing(sql: Sql, opts: KeyRingOptions): Promise<KeyRing> {
  const rotateAfterMs = opts.rotateAfterMs ?? 30 * 86_400_000;
  const leadMs = opts.publishLeadMs ?? 2 * JWKS_MAX_AGE_SECONDS * 1000;
  const operatorKey = opts.pem ? await resolveSigningKey(sql, opts.pem) : undefined;
  let signing = operatorKey ?? await resolveSigningKey(sql, "");
  let published: readonly PublicEcJwk[] = [signing.publicJwk];

  const withSigning = (keys: readonly PublicEcJwk[]): readonly PublicEcJwk[] =>
    keys.some((k) => k.kid === signing.kid) ? keys : [signing.publicJwk, ...keys];

  const ring: KeyRing = {
    signing: () => signing,
    published: () => published,
    async refresh() {
      try {
        if (!operatorKey && rotateAfterMs > 0) await rotateIfDue(sql, rotateAfterMs, leadMs);
        if (!operatorKey) {
          const newest = await newestSigningKey(sql);
          if (newest && newest.kid !== signing.kid) {
            log.info("now signing with {kid}", { kid: newest.kid });
            signing = newest;
          }
        }
        published = withSigning(await publishedKeys(sql, opts.tokenTtlSeconds));
      } catch (error) {
        log.warn("could not reload the signing keys; keeping the current ones: {error}", {
          error,
        });
      }
    },
  };
  await ring.refresh();
  return ring;
}
