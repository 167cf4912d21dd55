drop trigger if exists notification_due on notifications;
drop function if exists notification_due();
drop table if exists notifications;
drop table if exists customers;
