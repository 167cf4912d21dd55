/**
 * Test fixtures for the server kit: a token signer and verifier over an in-memory key.
 * @module
 */
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { jwksVerifier, TOKEN_AUDIENCE, TOKEN_ISSUER, type TokenVerifier } from "../auth.ts";

/** Signs tokens that {@linkcode TestKeys.verifier} accepts. */
export interface TestKeys {
  verifier: TokenVerifier;
  jwk: JWK;
  sign(sub: string, roles?: string[]): Promise<string>;
}

/** A fresh ES256 key with a verifier and a signer. */
export async function testKeys(): Promise<TestKeys> {
  const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: "test", alg: "ES256", use: "sig" };
  return {
    jwk,
    verifier: jwksVerifier({ jwks: { keys: [jwk] } }),
    sign: (sub, roles = ["customer"]) =>
      new SignJWT({ roles })
        .setProtectedHeader({ alg: "ES256", kid: "test" })
        .setSubject(sub)
        .setIssuer(TOKEN_ISSUER)
        .setAudience(TOKEN_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime("5m")
        .sign(privateKey),
  };
}
