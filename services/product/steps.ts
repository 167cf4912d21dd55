/**
 * Product's saga step, a function of an event and the transaction it runs in: every new order is
 * priced from the catalogue. Product keeps no per-order state: a repeated event quotes again, and
 * the order takes only the first quote that finds it still PROCESSING.
 * @module
 */
import type { Tx } from "@stocklet/shared/db";
import { events } from "@stocklet/shared/proto";
import { quoteOrder } from "./domain.ts";
import { unitPrices } from "./store.ts";

/**
 * `order.state.created`: `product.pricequotation`, AVAILABLE with unit prices and the total, or
 * UNAVAILABLE naming the products the catalogue does not have.
 */
export async function quoteNewOrder(tx: Tx, e: events.OrderCreatedEvent): Promise<void> {
  const prices = await unitPrices(tx, Object.keys(e.itemQuantities));
  const quote = quoteOrder(e.orderId, e.itemQuantities, prices);
  tx.publish("product.pricequotation", e.orderId, events.ProductPriceQuoteEventSchema, quote);
}
