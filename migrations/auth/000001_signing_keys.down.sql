drop table if exists signing_keys;
