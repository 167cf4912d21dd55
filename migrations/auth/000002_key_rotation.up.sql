-- Key rotation. Every key that signs is remembered with its public half, so the JWKS keeps
-- publishing a previous key while tokens it signed may live, and publishes a new key before it
-- signs (instances and verifiers all know it by then). A key given by the operator
-- (AUTH_PRIVATE_KEY) is recorded without its private half.
alter table signing_keys alter column private_jwk drop not null;
alter table signing_keys add column public_jwk jsonb;
update signing_keys set public_jwk = private_jwk - 'd';
alter table signing_keys alter column public_jwk set not null;
-- From when the key signs: the key with the latest not_before in the past is the signing key;
-- one in the future is published already and signs from then on.
alter table signing_keys add column not_before timestamptz;
update signing_keys set not_before = created_at;
alter table signing_keys alter column not_before set not null;
alter table signing_keys alter column not_before set default now();
create index signing_keys_not_before on signing_keys (not_before);
