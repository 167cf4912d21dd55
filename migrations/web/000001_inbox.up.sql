-- Events the web front's consumers processed, to skip redeliveries (dedupe on the id header). The
-- web front publishes nothing, so it has no outbox.
create table inbox (
  consumer text not null,
  event_id uuid not null,
  topic text not null,
  processed_at timestamptz not null default now(),
  primary key (consumer, event_id)
);
