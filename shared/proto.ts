/**
 * The generated contracts, one namespace per proto package.
 *
 * @example
 * ```ts
 * import { create } from "@bufbuild/protobuf";
 * import { events } from "@stocklet/shared/proto";
 * const e = create(events.OrderCreatedEventSchema, { orderId: "…" });
 * ```
 * @module
 */
export * as auth from "./gen/stocklet/auth/v1/auth_pb.ts";
export * as user from "./gen/stocklet/user/v1/user_pb.ts";
export * as product from "./gen/stocklet/product/v1/product_pb.ts";
export * as warehouse from "./gen/stocklet/warehouse/v1/warehouse_pb.ts";
export * as order from "./gen/stocklet/order/v1/order_pb.ts";
export * as shipping from "./gen/stocklet/shipping/v1/shipping_pb.ts";
export * as payment from "./gen/stocklet/payment/v1/payment_pb.ts";
export * as notification from "./gen/stocklet/notification/v1/notification_pb.ts";
export * as events from "./events.ts";
export { http as httpRule } from "./gen/google/api/annotations_pb.ts";
export type { HttpRule } from "./gen/google/api/http_pb.ts";
export { topics as topicsOption } from "./gen/stocklet/events/v1/options_pb.ts";
