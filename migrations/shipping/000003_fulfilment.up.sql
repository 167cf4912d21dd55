-- Fulfilment: an approved order's shipment is dispatched with a carrier (DISPATCHED, 3) and then
-- delivered (DELIVERED, 6).
alter table shipments drop constraint shipments_status_check;
alter table shipments add constraint shipments_status_check check (status between 1 and 6);

alter table shipments
  -- Set when the order was approved (paid): only then may the shipment be dispatched.
  add column approved_at timestamptz,
  add column carrier text,
  add column tracking_number text,
  add column dispatched_at timestamptz,
  add column delivered_at timestamptz;

-- The courier simulator's work lists: approved shipments waiting for dispatch, dispatched ones
-- waiting for delivery.
create index shipments_awaiting_dispatch on shipments (approved_at)
  where status = 1 and approved_at is not null;
create index shipments_in_transit on shipments (dispatched_at) where status = 3;
