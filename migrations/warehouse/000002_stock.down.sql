drop table if exists reservation_items; drop table if exists reservations; drop table if exists product_stock;
