-- The ES256 keys that sign access tokens, kept so that a restart does not invalidate every token
-- already issued. Used only when AUTH_PRIVATE_KEY is unset; the newest row signs.
create table signing_keys (
  -- RFC 7638 thumbprint of the public key: the `kid` of tokens and of the JWKS entry.
  kid         text primary key,
  -- The private key as a JWK (kty, crv, x, y, d).
  private_jwk jsonb not null,
  created_at  timestamptz not null default now()
);
