-- Stock per product; it can never go negative.
create table product_stock (
  product_id uuid primary key,
  quantity   integer not null check (quantity >= 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz
);

-- One reservation per order (the unique order_id makes reserving idempotent and lets a rejected
-- order leave a CANCELLED marker that stops a late reservation). status holds
-- stocklet.warehouse.v1.ReservationStatus values.
create table reservations (
  id          uuid primary key,
  order_id    uuid not null unique,
  customer_id uuid,
  status      smallint not null check (status between 1 and 5),
  created_at  timestamptz not null default now(),
  updated_at  timestamptz
);

create table reservation_items (
  reservation_id uuid not null references reservations (id) on delete cascade,
  product_id     uuid not null,
  quantity       integer not null check (quantity > 0),
  primary key (reservation_id, product_id)
);
