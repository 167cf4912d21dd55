/**
 * The event messages of every topic (package `stocklet.events.v1`).
 * @module
 */
export * from "./gen/stocklet/events/v1/order_pb.ts";
export * from "./gen/stocklet/events/v1/payment_pb.ts";
export * from "./gen/stocklet/events/v1/product_pb.ts";
export * from "./gen/stocklet/events/v1/shipping_pb.ts";
export * from "./gen/stocklet/events/v1/user_pb.ts";
export * from "./gen/stocklet/events/v1/warehouse_pb.ts";
