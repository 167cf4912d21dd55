drop table if exists shipment_items; drop table if exists shipments;
