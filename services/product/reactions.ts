/**
 * Product's subscriptions, topic → step: price every new order.
 * @module
 */
import { events } from "@stocklet/shared/proto";
import { on, type Reaction } from "@stocklet/shared/reaction";
import { quoteNewOrder } from "./steps.ts";

/** order.state.created → product.pricequotation (AVAILABLE with prices, or UNAVAILABLE). */
export function productReactions(): Reaction[] {
  return [
    on("order.state.created", events.OrderCreatedEventSchema, (e, tx) => quoteNewOrder(tx, e)),
  ];
}
