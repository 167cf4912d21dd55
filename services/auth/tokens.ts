/**
 * Access tokens: ES256 JWTs that every service verifies itself against the auth service's JWKS
 * (`@stocklet/shared/auth`). Claims: `sub` (user id), `roles`, `cv` (the credential version the
 * token was issued for: a password change revokes it), `iss`, `aud`, `iat`, `exp`, `jti`.
 *
 * @example
 * ```ts
 * const { accessToken, expiresIn } = await issueToken(key, { userId, roles: ["customer"] });
 * ```
 * @module
 */
import { SignJWT } from "jose";
import { CREDENTIAL_CLAIM, TOKEN_AUDIENCE, TOKEN_ISSUER } from "@stocklet/shared/auth";
import { uuidv7 } from "@stocklet/shared/ids";
import { ALG, type SigningKey } from "./keys.ts";

/** The default token lifetime: one day, as the seed issued. */
export const DEFAULT_TTL_SECONDS = 86_400;

/** Whom a token is for. */
export interface TokenSubject {
  userId: string;
  roles: readonly string[];
  /** The credential version that was verified (the user service's). @default "" */
  credentialVersion?: string;
}

/** Options for {@linkcode issueToken}. */
export interface IssueOptions {
  /** Lifetime in seconds. @default DEFAULT_TTL_SECONDS */
  ttlSeconds?: number;
  /** The issue time in milliseconds since the epoch. @default Date.now() */
  now?: number;
}

/** An issued token. */
export interface IssuedToken {
  accessToken: string;
  /** Seconds until it expires. */
  expiresIn: number;
}

/**
 * Signs an access token for a subject.
 *
 * @param key The signing key; its kid goes into the header.
 * @param subject The user and their roles.
 * @param opts Lifetime and clock.
 * @returns The compact JWT and its lifetime.
 */
export async function issueToken(
  key: SigningKey,
  subject: TokenSubject,
  opts: IssueOptions = {},
): Promise<IssuedToken> {
  const ttl = opts.ttlSeconds ?? DEFAULT_TTL_SECONDS;
  const iat = Math.floor((opts.now ?? Date.now()) / 1000);
  const accessToken = await new SignJWT({
    roles: [...subject.roles],
    [CREDENTIAL_CLAIM]: subject.credentialVersion ?? "",
  })
    .setProtectedHeader({ alg: ALG, kid: key.kid, typ: "JWT" })
    .setSubject(subject.userId)
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttl)
    // A unique id lets a future deny-list revoke one token.
    .setJti(uuidv7())
    .sign(key.privateKey);
  return { accessToken, expiresIn: ttl };
}
