-- The order service's copy of the catalogue's prices, kept from product's events, so that an
-- order of known products is priced as it is placed (no round trip through the product service).
-- version is the id (a UUIDv7, so time-ordered) of the last event applied: product's events come
-- on three topics, so their order is not guaranteed, and an older event never overwrites a newer
-- one. A deleted product keeps its row (price_cents null) so that a late "created" cannot bring it
-- back.
create table price_list (
  product_id  uuid primary key,
  price_cents bigint check (price_cents >= 0),
  version     uuid not null
);
