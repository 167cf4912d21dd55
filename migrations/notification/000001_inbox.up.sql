-- Events this service's consumers processed, to skip redeliveries (dedupe on the id header). The
-- notification service publishes no events, so it has no outbox.
create table inbox (
  consumer text not null,
  event_id uuid not null,
  topic text not null,
  processed_at timestamptz not null default now(),
  primary key (consumer, event_id)
);
