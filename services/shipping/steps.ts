/**
 * Shipping's saga steps, each a function of an event and the transaction it runs in: allocate a
 * shipment for reserved stock (or fail, over the per-shipment limit), and release it when the
 * payment fails or the order is rejected. One shipment row per order makes each step happen at
 * most once, in any arrival order.
 * @module
 */
import { claimRow } from "@stocklet/shared/claim";
import type { Tx } from "@stocklet/shared/db";
import { uuidv7 } from "@stocklet/shared/ids";
import { events } from "@stocklet/shared/proto";
import { allocationProblem, ShipmentStatus, transitions } from "./domain.ts";
import {
  insertShipment,
  insertShipmentItems,
  lockShipmentOfOrder,
  moveShipment,
  shipmentItems,
} from "./store.ts";

const Type = events.ShipmentAllocationEvent_Type;

/** The order an event concerns. */
export interface OrderRef {
  orderId: string;
  customerId: string;
}

/**
 * `warehouse.reservation.reserved`: allocate a shipment (ALLOCATED) or refuse it (FAILED), on
 * `shipping.shipment.allocation`.
 */
export async function allocateShipment(
  tx: Tx,
  e: events.StockReservationEvent,
  maxUnits: number,
): Promise<void> {
  const id = uuidv7();
  const problem = allocationProblem(e.reservationStock, maxUnits);
  const claimed = await insertShipment(tx, {
    id,
    orderId: e.orderId,
    customerId: e.orderMetadata?.customerId || null,
    status: problem ? ShipmentStatus.FAILED : ShipmentStatus.ALLOCATED,
  });
  // Already allocated or failed, or the order was rejected first (a CANCELLED marker). A rejection
  // racing this step waits for its commit, then releases what it allocated.
  if (!claimed) return;
  if (!problem) await insertShipmentItems(tx, id, e.reservationStock);
  tx.publish("shipping.shipment.allocation", e.orderId, events.ShipmentAllocationEventSchema, {
    revision: 1,
    type: problem ? Type.FAILED : Type.ALLOCATED,
    orderId: e.orderId,
    ...(e.orderMetadata ? { orderMetadata: e.orderMetadata } : {}),
    shipmentId: id,
    productQuantities: e.reservationStock,
  });
}

/**
 * `payment.processing` FAILED or `order.state.rejected`: release an allocated shipment
 * (ALLOCATION_RELEASED). Decided by the order's shipment row: claimed here with a CANCELLED marker
 * when there is none (a later allocation finds it and allocates nothing), or, when the allocation
 * got there first (even while this ran), locked and read back.
 */
export async function releaseShipment(tx: Tx, e: OrderRef): Promise<void> {
  const claim = await claimRow(
    () =>
      insertShipment(tx, {
        id: uuidv7(),
        orderId: e.orderId,
        customerId: e.customerId || null,
        status: ShipmentStatus.CANCELLED,
      }),
    () => lockShipmentOfOrder(tx, e.orderId),
  );
  if (claim.claimed) return;
  const s = claim.current;
  if (!transitions.canMove(s.status, ShipmentStatus.RELEASED)) return;
  await moveShipment(tx, s.id, ShipmentStatus.RELEASED);
  tx.publish("shipping.shipment.allocation", e.orderId, events.ShipmentAllocationEventSchema, {
    revision: 1,
    type: Type.ALLOCATION_RELEASED,
    orderId: e.orderId,
    shipmentId: s.id,
    productQuantities: await shipmentItems(tx, s.id),
  });
}
