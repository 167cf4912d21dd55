/**
 * The ES256 signing key: parsed from PEM (PKCS#8 `PRIVATE KEY` or SEC1 `EC PRIVATE KEY`, optionally
 * base64-encoded as the seed's `AUTH_PRIVATE_KEY` was), rebuilt from a stored JWK, or generated.
 * Its `kid` is the RFC 7638 thumbprint of the public key, so the same key always has the same id.
 *
 * @example
 * ```ts
 * const key = await parsePrivateKeyPem(Deno.env.get("AUTH_PRIVATE_KEY")!);
 * key.publicJwk; // { kty: "EC", crv: "P-256", x, y, kid, alg: "ES256", use: "sig" }
 * ```
 * @module
 */
import { createPrivateKey } from "node:crypto";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from "jose";

/** The one signing algorithm tokens use (and the kit's verifier accepts). */
export const ALG = "ES256";

/** A public key as published in the JWKS (the shape of `stocklet.auth.v1.PublicEcJwk`). */
export interface PublicEcJwk {
  kty: string;
  use: string;
  alg: string;
  crv: string;
  x: string;
  y: string;
  kid: string;
}

/** A private key ready to sign, with its id and public half. */
export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  /** The private key as a JWK (kty, crv, x, y, d), for storage. */
  privateJwk: JWK;
  publicJwk: PublicEcJwk;
}

/**
 * Builds a signing key from a private EC JWK; rejects anything but a P-256 private key.
 *
 * @param jwk A JWK with kty EC, crv P-256, x, y and d.
 * @returns The key with its thumbprint kid and public JWK.
 */
export async function signingKeyFromJwk(jwk: JWK): Promise<SigningKey> {
  if (jwk.kty !== "EC" || jwk.crv !== "P-256") {
    throw new Error(`signing key must be an EC P-256 key (ES256), got ${jwk.kty} ${jwk.crv ?? ""}`);
  }
  if (!jwk.d || !jwk.x || !jwk.y) throw new Error("signing key must be a private EC key");
  const privateJwk: JWK = { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y, d: jwk.d };
  const privateKey = await importJWK(privateJwk, ALG);
  if (!(privateKey instanceof CryptoKey)) throw new Error("signing key did not import");
  const kid = await calculateJwkThumbprint(privateJwk, "sha256");
  return {
    kid,
    privateKey,
    privateJwk,
    publicJwk: { kty: "EC", use: "sig", alg: ALG, crv: "P-256", x: jwk.x, y: jwk.y, kid },
  };
}

const PEM_RE = /-----BEGIN (EC PRIVATE KEY|PRIVATE KEY)-----[\s\S]+?-----END \1-----/;

/** The PEM text of a value that is PEM, or base64 of PEM (the seed's form); undefined otherwise. */
function pemOf(raw: string): string | undefined {
  const text = raw.trim().replace(/\\n/g, "\n"); // env files often carry the newlines escaped
  const direct = PEM_RE.exec(text);
  if (direct) return direct[0];
  const compact = text.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) return undefined;
  let decoded: string;
  try {
    decoded = atob(compact);
  } catch {
    return undefined;
  }
  return PEM_RE.exec(decoded)?.[0];
}

/**
 * Parses a P-256 private key from PEM: PKCS#8 (`BEGIN PRIVATE KEY`) or SEC1
 * (`BEGIN EC PRIVATE KEY`), given as is, with `\n` escapes, or base64-encoded.
 *
 * @param raw The value of `AUTH_PRIVATE_KEY`.
 * @returns The signing key.
 * @throws Error saying what is wrong (never echoing the key).
 */
export async function parsePrivateKeyPem(raw: string): Promise<SigningKey> {
  const pem = pemOf(raw);
  if (!pem) {
    throw new Error(
      "AUTH_PRIVATE_KEY must be a PEM private key (PKCS#8 or SEC1 EC), or base64 of one",
    );
  }
  let jwk: JWK;
  try {
    // node:crypto reads both PKCS#8 and SEC1; WebCrypto (and so jose) only PKCS#8.
    const key = createPrivateKey({ key: pem, format: "pem" });
    if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
      throw new Error(
        `AUTH_PRIVATE_KEY must be a P-256 EC key for ES256, got ${key.asymmetricKeyType} ${
          key.asymmetricKeyDetails?.namedCurve ?? ""
        }`,
      );
    }
    jwk = key.export({ format: "jwk" }) as JWK;
  } catch (e) {
    if (e instanceof Error && e.message.startsWith("AUTH_PRIVATE_KEY")) throw e;
    throw new Error("AUTH_PRIVATE_KEY is not a readable private key", { cause: e });
  }
  return await signingKeyFromJwk(jwk);
}

/**
 * Generates a fresh, extractable P-256 key (extractable so that it can be stored and reloaded).
 *
 * @returns The new signing key.
 */
export async function generateSigningKey(): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair(ALG, { extractable: true });
  return signingKeyFromJwk(await exportJWK(privateKey));
}
