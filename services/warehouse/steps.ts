/**
 * The warehouse's saga steps. Stock is taken when an order is pending (all items or none), consumed
 * when its payment succeeds, and returned when anything after the reservation fails or the order is
 * rejected. Every step is keyed by the order's one reservation row, so it happens at most once, in
 * whatever order the events arrive.
 * @module
 */
import type { Tx } from "@stocklet/shared/db";
import { uuidv7 } from "@stocklet/shared/ids";
import { events } from "@stocklet/shared/proto";
import {
  insertReservation,
  lockReservation,
  openStock,
  ReservationStatus,
  returnStock,
  setReservationStatus,
  takeStock,
} from "./store.ts";

const Type = events.StockReservationEvent_Type;

class Shortage extends Error {
  constructor(readonly products: string[]) {
    super(`short of stock: ${products.join(", ")}`);
  }
}

/** A new product gets a stock row at 0 (`warehouse.stock.created`). */
export async function openProductStock(tx: Tx, productId: string): Promise<void> {
  if (!(await openStock(tx, productId, 0))) return;
  tx.publish("warehouse.stock.created", productId, events.StockCreatedEventSchema, {
    revision: 1,
    productId,
    quantity: 0,
  });
}

/**
 * A pending order: reserve every item (`warehouse.reservation.reserved`) or none
 * (`warehouse.reservation.failed` naming the products short of stock).
 */
export async function reserveOrder(tx: Tx, e: events.OrderPendingEvent): Promise<void> {
  const id = uuidv7();
  // The row first: a second reservation attempt for this order (or one after its rejection) stops here.
  const fresh = await insertReservation(tx, {
    id,
    orderId: e.orderId,
    customerId: e.customerId || null,
    status: ReservationStatus.RESERVED,
  });
  if (!fresh) return;
  const metadata = {
    customerId: e.customerId,
    itemsPriceCents: e.itemsPriceCents,
    totalPriceCents: e.totalPriceCents,
  };
  try {
    await tx.savepoint(async (sp) => {
      const short = await takeStock(sp, e.itemQuantities);
      if (short.length) throw new Shortage(short);
      const items = Object.entries(e.itemQuantities).map(([product_id, quantity]) => ({
        reservation_id: id,
        product_id,
        quantity,
      }));
      await sp`insert into reservation_items ${
        sp(items, "reservation_id", "product_id", "quantity")
      }`;
    });
  } catch (err) {
    if (!(err instanceof Shortage)) throw err;
    await setReservationStatus(tx, id, ReservationStatus.FAILED);
    tx.publish("warehouse.reservation.failed", e.orderId, events.StockReservationEventSchema, {
      revision: 1,
      type: Type.INSUFFICIENT_STOCK,
      orderId: e.orderId,
      orderMetadata: metadata,
      insufficientStock: err.products,
    });
    return;
  }
  tx.publish("warehouse.reservation.reserved", e.orderId, events.StockReservationEventSchema, {
    revision: 1,
    type: Type.STOCK_RESERVED,
    orderId: e.orderId,
    orderMetadata: metadata,
    reservationId: id,
    reservationStock: e.itemQuantities,
  });
}

/** A paid order: the reserved stock leaves (`warehouse.stock.removed`, `.reservation.consumed`). */
export async function consumeReservation(tx: Tx, orderId: string): Promise<void> {
  const r = await lockReservation(tx, orderId);
  if (!r || r.status !== ReservationStatus.RESERVED) return;
  await setReservationStatus(tx, r.id, ReservationStatus.CONSUMED);
  for (const [productId, amount] of Object.entries(r.items)) {
    tx.publish("warehouse.stock.removed", productId, events.StockRemovedEventSchema, {
      revision: 1,
      productId,
      amount,
      reservationId: r.id,
    });
  }
  tx.publish("warehouse.reservation.consumed", orderId, events.StockReservationEventSchema, {
    revision: 1,
    type: Type.STOCK_CONSUMED,
    orderId,
    reservationId: r.id,
    reservationStock: r.items,
  });
}

/**
 * A failed or rejected order: reserved (or already consumed, if a timeout raced the payment) stock
 * goes back (`warehouse.reservation.returned`). With no reservation yet, a CANCELLED marker makes
 * sure none is ever made for the order.
 */
export async function returnReservation(
  tx: Tx,
  orderId: string,
  customerId: string,
): Promise<void> {
  const r = await lockReservation(tx, orderId);
  if (!r) {
    await insertReservation(tx, {
      id: uuidv7(),
      orderId,
      customerId: customerId || null,
      status: ReservationStatus.CANCELLED,
    });
    return;
  }
  if (r.status !== ReservationStatus.RESERVED && r.status !== ReservationStatus.CONSUMED) return;
  await returnStock(tx, r.items);
  await setReservationStatus(tx, r.id, ReservationStatus.RETURNED);
  tx.publish("warehouse.reservation.returned", orderId, events.StockReservationEventSchema, {
    revision: 1,
    type: Type.STOCK_RETURNED,
    orderId,
    reservationId: r.id,
    reservationStock: r.items,
  });
}
