/**
 * Product's rules: an order's price quote from the catalogue's unit prices (the catalogue has no
 * status machine). Pure, so it is tested without a database.
 * @module
 */
import { create } from "@bufbuild/protobuf";
import { events } from "@stocklet/shared/proto";
import { priceItems } from "@stocklet/shared/pricing";

/** A quote for an order, ready to publish on `product.pricequotation`. */
export type PriceQuote = events.ProductPriceQuoteEvent;

/**
 * Prices every item of an order: AVAILABLE with unit prices and the exact total (Σ unit price ×
 * quantity, in cents) when every product is known, UNAVAILABLE naming the unknown products otherwise.
 */
export function quoteOrder(
  orderId: string,
  quantities: Readonly<Record<string, number>>,
  unitPrices: ReadonlyMap<string, bigint>,
): PriceQuote {
  const priced = priceItems(quantities, unitPrices);
  if (priced.kind === "unpriced") {
    return create(events.ProductPriceQuoteEventSchema, {
      revision: 1,
      type: events.ProductPriceQuoteEvent_Type.UNAVAILABLE,
      orderId,
      productQuantities: { ...quantities },
      unavailableProducts: priced.missing,
    });
  }
  return create(events.ProductPriceQuoteEventSchema, {
    revision: 1,
    type: events.ProductPriceQuoteEvent_Type.AVAILABLE,
    orderId,
    productQuantities: { ...quantities },
    productPricesCents: priced.unitCents,
    totalPriceCents: priced.totalCents,
  });
}
