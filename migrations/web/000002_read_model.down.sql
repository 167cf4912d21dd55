drop table if exists dead_letters; drop table if exists customers; drop table if exists timeline;
