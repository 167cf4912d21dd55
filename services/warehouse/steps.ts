/**
 * The warehouse's saga steps, each a function of an event and the transaction it runs in. Stock is
 * reserved when an order is pending (all items or none), consumed when its shipment is dispatched
 * (the units physically leave), and returned when the order is rejected (whatever failed after
 * the reservation: the allocation, the payment, the clock) or its cancellation released the
 * shipment. Every step is keyed by the order's one reservation row, so it happens at most once, in
 * whatever order the events arrive.
 * @module
 */
import { claimRow } from "@stocklet/shared/claim";
import type { Tx } from "@stocklet/shared/db";
import { uuidv7 } from "@stocklet/shared/ids";
import { events } from "@stocklet/shared/proto";
import { ReservationStatus, shortages, transitions } from "./domain.ts";
import {
  insertReservation,
  insertReservationItems,
  lockReservation,
  lockStock,
  moveReservation,
  openStock,
  returnStock,
  takeStock,
} from "./store.ts";

const Type = events.StockReservationEvent_Type;

/** The order an event concerns. */
export interface OrderRef {
  orderId: string;
  customerId: string;
}

/** `product.state.created`: the new product gets a stock row at 0 (`warehouse.stock.created`). */
export async function openProductStock(tx: Tx, e: events.ProductCreatedEvent): Promise<void> {
  if (!(await openStock(tx, e.productId, 0))) return;
  tx.publish("warehouse.stock.created", e.productId, events.StockCreatedEventSchema, {
    revision: 1,
    productId: e.productId,
    quantity: 0,
  });
}

/**
 * `order.state.pending`: reserve every item (`warehouse.reservation.reserved`) or none
 * (`warehouse.reservation.failed` naming the products short of stock).
 */
export async function reserveOrder(tx: Tx, e: events.OrderPendingEvent): Promise<void> {
  const levels = await lockStock(tx, Object.keys(e.itemQuantities));
  const short = shortages(e.itemQuantities, levels);
  const id = uuidv7();
  // The order's one reservation row decides: a second attempt for this order, or one after its
  // rejection (a CANCELLED marker), stops here. A rejection racing this step waits for its commit,
  // then returns what it took.
  const claimed = await insertReservation(tx, {
    id,
    orderId: e.orderId,
    customerId: e.customerId || null,
    status: short.length ? ReservationStatus.FAILED : ReservationStatus.RESERVED,
  });
  if (!claimed) return;
  const orderMetadata = {
    customerId: e.customerId,
    itemsPriceCents: e.itemsPriceCents,
    totalPriceCents: e.totalPriceCents,
  };
  if (short.length) {
    tx.publish("warehouse.reservation.failed", e.orderId, events.StockReservationEventSchema, {
      revision: 1,
      type: Type.INSUFFICIENT_STOCK,
      orderId: e.orderId,
      orderMetadata,
      insufficientStock: short,
    });
    return;
  }
  // Both statements travel together (one round trip): neither needs the other's answer.
  await Promise.all([
    takeStock(tx, e.itemQuantities),
    insertReservationItems(tx, id, e.itemQuantities),
  ]);
  tx.publish("warehouse.reservation.reserved", e.orderId, events.StockReservationEventSchema, {
    revision: 1,
    type: Type.STOCK_RESERVED,
    orderId: e.orderId,
    orderMetadata,
    reservationId: id,
    reservationStock: e.itemQuantities,
  });
}

/**
 * `shipping.shipment.dispatched`: the reserved stock leaves with the shipment
 * (`warehouse.reservation.consumed`, which names every product and quantity: one event, not one
 * more per product). Not at payment: until dispatch, a cancelled order's units simply go back.
 */
export async function consumeReservation(tx: Tx, e: OrderRef): Promise<void> {
  const r = await lockReservation(tx, e.orderId);
  if (!r || !(await moveReservation(tx, r.id, ReservationStatus.CONSUMED))) return;
  tx.publish("warehouse.reservation.consumed", e.orderId, events.StockReservationEventSchema, {
    revision: 1,
    type: Type.STOCK_CONSUMED,
    orderId: e.orderId,
    reservationId: r.id,
    reservationStock: r.items,
  });
}

/**
 * `order.state.rejected` (a failed allocation or payment among the reasons), or a cancellation that
 * released the shipment (`shipping.shipment.cancelled`): reserved stock goes back
 * (`warehouse.reservation.returned`). Decided by the order's reservation row: claimed here with a
 * CANCELLED marker when there is none (a later reservation finds it and takes nothing), or, when
 * the reservation got there first (even while this ran), locked and read back.
 */
export async function returnReservation(tx: Tx, e: OrderRef): Promise<void> {
  const claim = await claimRow(
    () =>
      insertReservation(tx, {
        id: uuidv7(),
        orderId: e.orderId,
        customerId: e.customerId || null,
        status: ReservationStatus.CANCELLED,
      }),
    () => lockReservation(tx, e.orderId),
  );
  if (claim.claimed) return;
  const r = claim.current;
  if (!transitions.canMove(r.status, ReservationStatus.RETURNED)) return;
  await returnStock(tx, r.items);
  await moveReservation(tx, r.id, ReservationStatus.RETURNED);
  tx.publish("warehouse.reservation.returned", e.orderId, events.StockReservationEventSchema, {
    revision: 1,
    type: Type.STOCK_RETURNED,
    orderId: e.orderId,
    reservationId: r.id,
    reservationStock: r.items,
  });
}
