-- Customer balances in integer cents; a balance can never go negative.
create table balances (
  customer_id   uuid primary key,
  balance_cents bigint not null check (balance_cents >= 0),
  created_at    timestamptz not null default now(),
  updated_at    timestamptz
);

-- One transaction per paid order; reversed_at is set when a payment is refunded.
create table transactions (
  id           uuid primary key,
  order_id     uuid not null unique,
  customer_id  uuid not null,
  amount_cents bigint not null check (amount_cents >= 0),
  processed_at timestamptz not null default now(),
  reversed_at  timestamptz
);
create index transactions_by_customer on transactions (customer_id, id desc);

-- The outcome of each order's payment step (1 succeeded, 2 failed, 3 cancelled before payment,
-- 4 refunded): one row per order makes paying and refunding happen at most once.
create table order_payments (
  order_id       uuid primary key,
  status         smallint not null check (status between 1 and 4),
  transaction_id uuid,
  reason         text,
  created_at     timestamptz not null default now(),
  updated_at     timestamptz
);
