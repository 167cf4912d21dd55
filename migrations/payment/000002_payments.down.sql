drop table if exists order_payments; drop table if exists transactions; drop table if exists balances;
