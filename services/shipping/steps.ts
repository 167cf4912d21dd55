/**
 * Shipping's saga steps: allocate a shipment for reserved stock (or fail, over the per-shipment
 * limit), and release it when the payment fails or the order is rejected. One shipment row per order
 * makes each step happen at most once, in any arrival order.
 * @module
 */
import type { Tx } from "@stocklet/shared/db";
import { uuidv7 } from "@stocklet/shared/ids";
import { events } from "@stocklet/shared/proto";
import { allocationProblem } from "./domain.ts";
import {
  insertShipment,
  lockShipmentOfOrder,
  setShipmentStatus,
  shipmentItems,
  ShipmentStatus,
} from "./store.ts";

const Type = events.ShipmentAllocationEvent_Type;

/** Reserved stock: allocate a shipment (ALLOCATED) or refuse it (FAILED). */
export async function allocateShipment(
  tx: Tx,
  e: events.StockReservationEvent,
  maxUnits: number,
): Promise<void> {
  const id = uuidv7();
  const problem = allocationProblem(e.reservationStock, maxUnits);
  const fresh = await insertShipment(tx, {
    id,
    orderId: e.orderId,
    customerId: e.orderMetadata?.customerId || null,
    status: problem ? ShipmentStatus.FAILED : ShipmentStatus.ALLOCATED,
    ...(problem ? {} : { items: e.reservationStock }),
  });
  if (!fresh) return; // already allocated, failed, or the order was rejected first
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
 * A failed payment or a rejected order: release an allocated shipment (ALLOCATION_RELEASED). With no
 * shipment yet, a CANCELLED marker makes sure none is allocated later.
 */
export async function releaseShipment(tx: Tx, orderId: string, customerId: string): Promise<void> {
  const s = await lockShipmentOfOrder(tx, orderId);
  if (!s) {
    await insertShipment(tx, {
      id: uuidv7(),
      orderId,
      customerId: customerId || null,
      status: ShipmentStatus.CANCELLED,
    });
    return;
  }
  if (s.status !== ShipmentStatus.ALLOCATED) return;
  await setShipmentStatus(tx, s.id, ShipmentStatus.RELEASED);
  tx.publish("shipping.shipment.allocation", orderId, events.ShipmentAllocationEventSchema, {
    revision: 1,
    type: Type.ALLOCATION_RELEASED,
    orderId,
    shipmentId: s.id,
    productQuantities: await shipmentItems(tx, s.id),
  });
}
