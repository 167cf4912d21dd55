-- The customers' email addresses and names, as the user events tell them (a projection: the user
-- service owns them).
create table customers (
  id          uuid primary key,
  email       text not null,
  first_name  text not null default '',
  last_name   text not null default '',
  deleted_at  timestamptz,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz
);

-- One email per business event: kind holds stocklet.notification.v1.NotificationKind, and an
-- order gets at most one email of each kind, however often its event is delivered or replayed.
-- It is recorded (PENDING) in the transaction that consumes the event and sent afterwards; status
-- holds NotificationStatus (1 pending, 2 sent, 3 failed).
create table notifications (
  id              uuid primary key,
  kind            smallint not null check (kind between 1 and 5),
  order_id        uuid not null,
  customer_id     uuid not null,
  subject         text not null,
  -- What the message says besides the customer's name (amounts, reason, carrier, tracking).
  facts           jsonb not null default '{}',
  status          smallint not null default 1 check (status between 1 and 3),
  attempts        integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  -- A sender working on it holds it until then (another replica skips it meanwhile).
  lease_until     timestamptz,
  last_error      text,
  recipient       text,
  message_id      text,
  created_at      timestamptz not null default now(),
  sent_at         timestamptz,
  unique (kind, order_id)
);

-- "My notifications, newest first".
create index notifications_by_customer on notifications (customer_id, id desc);
-- The sender's work list.
create index notifications_due on notifications (next_attempt_at) where status = 1;

-- Wakes the sender (LISTEN notification_due) when a transaction that recorded notifications
-- commits; PostgreSQL folds a transaction's repeats into one.
create function notification_due() returns trigger language plpgsql as $$
  begin perform pg_notify('notification_due', ''); return null; end $$;
create trigger notification_due after insert on notifications
  for each statement execute function notification_due();
