-- Orders and their items. status holds stocklet.order.v1.OrderStatus values; money is integer cents.
create table orders (
  id                uuid primary key,
  customer_id       uuid not null,
  status            smallint not null check (status between 1 and 5),
  items_price_cents bigint check (items_price_cents >= 0),
  total_price_cents bigint check (total_price_cents >= 0),
  shipment_id       uuid,
  transaction_id    uuid,
  reject_reason     smallint not null default 0,
  created_at        timestamptz not null default now(),
  updated_at        timestamptz
);

-- "My orders, newest first" (ids are UUIDv7, so id order is creation order).
create index orders_by_customer on orders (customer_id, id desc);
-- The saga timeout sweeper only looks at orders still in flight.
create index orders_in_flight on orders (created_at) where status in (1, 2);

create table order_items (
  order_id         uuid not null references orders (id) on delete cascade,
  product_id       uuid not null,
  quantity         integer not null check (quantity > 0),
  unit_price_cents bigint check (unit_price_cents >= 0),
  primary key (order_id, product_id)
);
