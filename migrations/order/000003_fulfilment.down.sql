alter table orders
  drop column carrier, drop column tracking_number, drop column shipped_at,
  drop column delivered_at, drop column cancel_requested_at, drop column stock_returned_at,
  drop column refunded_cents;
alter table orders drop constraint orders_status_check;
alter table orders add constraint orders_status_check check (status between 1 and 5);
