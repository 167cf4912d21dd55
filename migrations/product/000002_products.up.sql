-- The catalogue. Money is integer cents (never a float, never Postgres `money`).
create table products (
  id          uuid primary key,
  name        text not null check (char_length(name) between 1 and 128),
  description text not null default '' check (char_length(description) <= 1024),
  price_cents bigint not null check (price_cents >= 0),
  created_at  timestamptz not null default now(),
  updated_at  timestamptz
);
