-- The web front's read model: the saga's steps per order (the live order page), the customers (the
-- admin finds them by name or email) and the dead letters of every consumer group. All of it is
-- rebuilt from the topics, so nothing here is the system of record.

-- One row per saga event of an order. at is when the producing service committed the event (its
-- created_at header); detail holds what the step was about (items, products, amounts, reasons).
create table timeline (
  event_id   uuid primary key,
  order_id   uuid not null,
  at         timestamptz not null,
  service    text not null,
  step       text not null,
  kind       text not null check (kind in ('progress', 'failure', 'compensation', 'outcome')),
  status     text,
  detail     jsonb not null default '{}'
);
create index timeline_by_order on timeline (order_id, at);

-- The customers, from user.state.created / user.attr.email / user.state.deleted.
create table customers (
  id         uuid primary key,
  email      text not null,
  first_name text not null,
  last_name  text not null,
  created_at timestamptz not null default now()
);
create index customers_by_email on customers (lower(email));

-- Every record of a `<group>.dlq` topic, with the dlq.* headers the consumer runtime wrote.
create table dead_letters (
  topic        text not null,
  partition    integer not null,
  "offset"     bigint not null,
  source_topic text,
  consumer     text,
  error        text,
  attempts     integer,
  failed_at    timestamptz,
  message_key  text,
  event_id     text,
  event_type   text,
  payload      bytea,
  headers      jsonb not null default '{}',
  received_at  timestamptz not null default now(),
  primary key (topic, partition, "offset")
);
