-- One shipment row per order (allocated, released, failed, or a CANCELLED marker left by an order
-- rejected before allocation). status holds stocklet.shipping.v1.ShipmentStatus values.
create table shipments (
  id          uuid primary key,
  order_id    uuid not null unique,
  customer_id uuid,
  status      smallint not null check (status between 1 and 5),
  created_at  timestamptz not null default now(),
  updated_at  timestamptz
);

create table shipment_items (
  shipment_id uuid not null references shipments (id) on delete cascade,
  product_id  uuid not null,
  quantity    integer not null check (quantity > 0),
  primary key (shipment_id, product_id)
);
