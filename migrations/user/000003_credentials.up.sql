-- Credential versions: every access token carries the version of the credential it was issued
-- for (claim `cv`); a password change gives the user a new version and lists the old one as
-- revoked, so the tokens issued for it stop working within seconds. Existing rows get '' (the
-- version of tokens that carry none).
alter table users add column credential_version text not null default '';

-- Replaced credentials. The auth service publishes them (hashed) while tokens issued for them
-- may still be alive; older rows are only history.
create table revoked_credentials (
  user_id            uuid not null,
  credential_version text not null,
  revoked_at         timestamptz not null default now(),
  primary key (user_id, credential_version)
);
create index revoked_credentials_revoked_at on revoked_credentials (revoked_at);

-- The admin password the operator configured last (as a scrypt hash), so that a new
-- STOCKLET_ADMIN_PASSWORD is applied once at start-up, while a password changed through the API
-- afterwards sticks across restarts.
create table admin_bootstrap (
  email                    text primary key,
  configured_password_hash text not null,
  applied_at               timestamptz not null default now()
);
