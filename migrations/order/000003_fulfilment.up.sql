-- An order's life after approval: SHIPPED (6) on dispatch, COMPLETED (5) on delivery, or
-- CANCELLING (7) → CANCELLED (8) when its customer cancels it before dispatch.
alter table orders drop constraint orders_status_check;
alter table orders add constraint orders_status_check check (status between 1 and 8);

alter table orders
  -- The dispatch's details, from shipping's events.
  add column carrier text,
  add column tracking_number text,
  add column shipped_at timestamptz,
  add column delivered_at timestamptz,
  -- A cancellation asked for while the order was still being placed: it is applied as soon as
  -- the payment is decided.
  add column cancel_requested_at timestamptz,
  -- The cancellation's compensations, as the participants report them: the order is CANCELLED
  -- once the stock is back and the payment refunded.
  add column stock_returned_at timestamptz,
  add column refunded_cents bigint check (refunded_cents >= 0);
