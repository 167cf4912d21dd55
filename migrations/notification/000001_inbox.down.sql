drop table if exists inbox;
