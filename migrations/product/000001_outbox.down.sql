drop table if exists inbox;
drop table if exists outbox;
