-- Identities and their password credentials. The user service owns both, so a login never needs
-- a second database; the auth service asks over gRPC (UserInternalService.VerifyCredentials).
create table users (
  id            uuid primary key,
  email         text not null check (char_length(email) between 3 and 254),
  first_name    text not null check (char_length(first_name) between 1 and 64),
  last_name     text not null check (char_length(last_name) between 1 and 64),
  roles         text[] not null default '{customer}',
  -- Self-describing: scrypt$N$r$p$<salt b64>$<hash b64>, so the cost can rise without a migration.
  password_hash text not null,
  created_at    timestamptz not null default now(),
  updated_at    timestamptz
);

-- One account per address whatever its case ("Ann@x.io" and "ann@x.io" are the same person);
-- also the index behind lookups by email at login.
create unique index users_email_lower_key on users (lower(email));
