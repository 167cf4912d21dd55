drop table if exists products;
