/**
 * Product's part of the place-order saga: price every new order.
 * @module
 */
import { events } from "@stocklet/shared/proto";
import { on, type Reaction } from "@stocklet/shared/reaction";
import { quoteOrder } from "./domain.ts";
import { unitPrices } from "./store.ts";

/** order.state.created → product.pricequotation (AVAILABLE with prices, or UNAVAILABLE). */
export function productReactions(): Reaction[] {
  return [
    on("order.state.created", events.OrderCreatedEventSchema, async (e, tx) => {
      const prices = await unitPrices(tx, Object.keys(e.itemQuantities));
      const quote = quoteOrder(e.orderId, e.itemQuantities, prices);
      tx.publish("product.pricequotation", e.orderId, events.ProductPriceQuoteEventSchema, quote);
    }),
  ];
}
