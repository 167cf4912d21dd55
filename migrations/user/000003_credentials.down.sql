drop table if exists admin_bootstrap;
drop table if exists revoked_credentials;
alter table users drop column if exists credential_version;
