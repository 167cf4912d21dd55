drop index if exists signing_keys_not_before;
delete from signing_keys where private_jwk is null;
alter table signing_keys drop column not_before;
alter table signing_keys drop column public_jwk;
alter table signing_keys alter column private_jwk set not null;
