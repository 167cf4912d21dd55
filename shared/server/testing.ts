/**
 * Test fixtures for the server kit: a token signer and verifier over an in-memory key.
 * @module
 */
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { jwksVerifier, TOKEN_AUDIENCE, TOKEN_ISSUER, type TokenVerifier } from "../auth.ts";

/** Claims overrides for {@linkcode TestKeys.signWith}. */
export interface SignOptions {
  sub?: string;
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
  /** A valid token for sub with roles (customer by default), good for 5 minutes. */
  sign(sub: string, roles?: string[]): Promise<string>;
  /** A token with full control of the claims (expired, wrong issuer, …). */
  signWith(opts?: SignOptions): Promise<string>;
}

/** A fresh ES256 key with a verifier and a signer. */
export async function testKeys(): Promise<TestKeys> {
  const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: "test", alg: "ES256", use: "sig" };
  const signWith = (opts: SignOptions = {}): Promise<string> => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ roles: opts.roles ?? ["customer"] })
      .setProtectedHeader({ alg: "ES256", kid: "test" })
      .setSubject(opts.sub ?? "0190c1d2-0000-7000-8000-000000000001")
      .setIssuer(opts.iss ?? TOKEN_ISSUER)
      .setAudience(opts.aud ?? TOKEN_AUDIENCE)
      .setIssuedAt(opts.iat ?? now)
      .setExpirationTime(opts.exp ?? now + 300)
      .sign(privateKey);
  };
  return {
    jwk,
    verifier: jwksVerifier({ jwks: { keys: [jwk] } }),
    sign: (sub, roles = ["customer"]) => signWith({ sub, roles }),
    signWith,
  };
}
