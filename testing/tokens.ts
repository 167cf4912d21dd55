/**
 * Test tokens: a fresh ES256 key with a verifier that trusts it, a signer with full control of the
 * claims, and the bad tokens an attacker would try (unsigned, tampered).
 * @module
 */
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import {
  jwksVerifier,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
  type TokenVerifier,
} from "@stocklet/shared/auth";

/** Claims of a test token (every one optional). */
export interface SignOptions {
  /** @default "0190c1d2-0000-7000-8000-000000000001" */
  sub?: string;
  /** @default ["customer"] */
  roles?: string[];
  /** Expiry (seconds since the epoch). @default now + 300 */
  exp?: number;
  /** Issued at (seconds since the epoch). @default now */
  iat?: number;
  iss?: string;
  aud?: string;
}

/** Signs tokens that {@linkcode TestKeys.verifier} accepts. */
export interface TestKeys {
  verifier: TokenVerifier;
  jwk: JWK;
  /** A token with the given claims: by default a customer's, valid for 5 minutes. */
  sign(opts?: SignOptions): Promise<string>;
}

/**
 * A fresh ES256 key with a verifier and a signer.
 *
 * @example
 * ```ts
 * const keys = await testKeys();
 * const admin = await keys.sign({ sub: adminId, roles: ["admin"] });
 * const expired = await keys.sign({ exp: 1 });
 * ```
 */
export async function testKeys(): Promise<TestKeys> {
  const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: "test", alg: "ES256", use: "sig" };
  return {
    jwk,
    verifier: jwksVerifier({ jwks: { keys: [jwk] } }),
    sign(opts: SignOptions = {}): Promise<string> {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ roles: opts.roles ?? ["customer"] })
        .setProtectedHeader({ alg: "ES256", kid: "test" })
        .setSubject(opts.sub ?? "0190c1d2-0000-7000-8000-000000000001")
        .setIssuer(opts.iss ?? TOKEN_ISSUER)
        .setAudience(opts.aud ?? TOKEN_AUDIENCE)
        .setIssuedAt(opts.iat ?? now)
        .setExpirationTime(opts.exp ?? now + 300)
        .sign(privateKey);
    },
  };
}

function b64url(text: string): string {
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** An unsigned (`alg: none`) token with the given claims. */
export function unsignedToken(claims: Record<string, unknown>): string {
  return `${b64url(JSON.stringify({ alg: "none", typ: "JWT" }))}.${
    b64url(JSON.stringify(claims))
  }.`;
}

/** A token whose payload was changed after signing (the signature no longer matches). */
export function tamper(token: string, claims: Record<string, unknown>): string {
  const [header, payload, signature] = token.split(".");
  const decoded = JSON.parse(atob(payload!.replace(/-/g, "+").replace(/_/g, "/")));
  return `${header}.${b64url(JSON.stringify({ ...decoded, ...claims }))}.${signature}`;
}
