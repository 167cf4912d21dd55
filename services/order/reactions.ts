/**
 * What moves an order, topic → step: the catalogue's prices (an order of known products is priced
 * as it is placed), the quote, a stock shortage, a failed allocation and the
 * payment outcome (the place-order saga); then its shipment's dispatch and delivery, and the
 * compensations of its cancellation.
 * @module
 */
import { events } from "@stocklet/shared/proto";
import { on, type Reaction } from "@stocklet/shared/reaction";
import { RejectReason } from "./domain.ts";
import {
  approveOrder,
  followShipment,
  learnPrice,
  priceOrder,
  recordCancellation,
  rejectOrder,
} from "./steps.ts";

const Quote = events.ProductPriceQuoteEvent_Type;
const Stock = events.StockReservationEvent_Type;
const Allocation = events.ShipmentAllocationEvent_Type;
const Payment = events.PaymentProcessedEvent_Type;

/** The order service's subscriptions. */
export function orderReactions(): Reaction[] {
  return [
    on(
      "product.pricequotation",
      events.ProductPriceQuoteEventSchema,
      (e, tx) =>
        e.type === Quote.AVAILABLE
          ? priceOrder(tx, e)
          : rejectOrder(tx, e.orderId, RejectReason.PRODUCT_UNAVAILABLE),
      { filter: (e) => e.type === Quote.AVAILABLE || e.type === Quote.UNAVAILABLE },
    ),

    on(
      "warehouse.reservation.failed",
      events.StockReservationEventSchema,
      (e, tx) => rejectOrder(tx, e.orderId, RejectReason.INSUFFICIENT_STOCK),
      { filter: (e) => e.type === Stock.INSUFFICIENT_STOCK },
    ),

    // Failures only: an allocated shipment is heard by payment, on shipping.shipment.allocation.
    on(
      "shipping.shipment.allocation.failed",
      events.ShipmentAllocationEventSchema,
      (e, tx) => rejectOrder(tx, e.orderId, RejectReason.SHIPMENT_FAILED, e.shipmentId),
      { filter: (e) => e.type === Allocation.FAILED },
    ),

    on(
      "payment.processing",
      events.PaymentProcessedEventSchema,
      (e, tx) =>
        e.type === Payment.SUCCESS
          ? approveOrder(tx, e)
          : rejectOrder(tx, e.orderId, RejectReason.PAYMENT_FAILED, e.shipmentId),
      { filter: (e) => e.type === Payment.SUCCESS || e.type === Payment.FAILED },
    ),

    on(
      "shipping.shipment.dispatched",
      events.ShipmentDispatchedEventSchema,
      (e, tx) => followShipment(tx, e, false),
    ),

    on(
      "shipping.shipment.delivered",
      events.ShipmentDeliveredEventSchema,
      (e, tx) => followShipment(tx, e, true),
    ),

    // The catalogue's prices, to price an order as it is placed (see placeOrder).
    on(
      "product.state.created",
      events.ProductCreatedEventSchema,
      (e, tx, m) => learnPrice(tx, e.productId, e.priceCents, m),
    ),

    on(
      "product.attr.price",
      events.ProductPriceUpdatedEventSchema,
      (e, tx, m) => learnPrice(tx, e.productId, e.priceCents, m),
    ),

    on(
      "product.state.deleted",
      events.ProductDeletedEventSchema,
      (e, tx, m) => learnPrice(tx, e.productId, null, m),
    ),

    on(
      "warehouse.reservation.returned",
      events.StockReservationEventSchema,
      (e, tx) => recordCancellation(tx, e.orderId, { stockReturned: true }),
    ),

    on(
      "payment.transaction.reversed",
      events.TransactionReversedEventSchema,
      (e, tx) => recordCancellation(tx, e.orderId, { refundedCents: e.amountCents }),
    ),
  ];
}
