-- The transactional outbox (shared/outbox.ts): each event is inserted in the business
-- transaction; Debezium's EventRouter relays the insert from the WAL to the topic named by
-- aggregatetype (key aggregateid, value payload, headers id, type, traceparent, created_at).
-- Relayed rows are purged in the background (the publication carries inserts only).
create table outbox (
  id uuid primary key,
  aggregatetype text not null,
  aggregateid text not null,
  type text not null,
  payload bytea not null,
  traceparent text,
  created_at timestamptz not null default clock_timestamp()
);

-- Events this service's consumers processed, to skip redeliveries (dedupe on the id header).
create table inbox (
  consumer text not null,
  event_id uuid not null,
  topic text not null,
  processed_at timestamptz not null default now(),
  primary key (consumer, event_id)
);
