drop index if exists shipments_in_transit;
drop index if exists shipments_awaiting_dispatch;
alter table shipments
  drop column approved_at, drop column carrier, drop column tracking_number,
  drop column dispatched_at, drop column delivered_at;
alter table shipments drop constraint shipments_status_check;
alter table shipments add constraint shipments_status_check check (status between 1 and 5);
