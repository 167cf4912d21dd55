/**
 * Shipping's steps, each a function of an event (or a request) and the transaction it runs in:
 * allocate a shipment for reserved stock (or fail, over the per-shipment limit), release it when
 * the order is rejected (whatever failed: the payment, the stock, the clock); once the order is
 * approved, dispatch it with a carrier and record its delivery; and when the customer cancels,
 * release it unless it left already. One shipment row per order makes each step happen at most
 * once, in any arrival order, and decides every race between a cancellation and a dispatch.
 * @module
 */
import { claimRow } from "@stocklet/shared/claim";
import type { Tx } from "@stocklet/shared/db";
import { failedPrecondition, notFound } from "@stocklet/shared/errors";
import { uuidv7 } from "@stocklet/shared/ids";
import { events } from "@stocklet/shared/proto";
import {
  allocationProblem,
  decideDelivery,
  decideDispatch,
  type FulfilmentDecision,
  ShipmentStatus,
  transitions,
} from "./domain.ts";
import {
  insertShipment,
  insertShipmentItems,
  lockShipment,
  lockShipmentOfOrder,
  markApproved,
  markDelivered,
  markDispatched,
  moveShipment,
  shipmentItems,
  type ShipmentRow,
} from "./store.ts";

const Type = events.ShipmentAllocationEvent_Type;

/** The order an event concerns. */
export interface OrderRef {
  orderId: string;
  customerId: string;
}

/**
 * `warehouse.reservation.reserved`: allocate a shipment (ALLOCATED, on
 * `shipping.shipment.allocation`) or refuse it (FAILED, on `shipping.shipment.allocation.failed`).
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
  const event = {
    revision: 1,
    orderId: e.orderId,
    ...(e.orderMetadata ? { orderMetadata: e.orderMetadata } : {}),
    shipmentId: id,
    productQuantities: e.reservationStock,
  };
  if (problem) {
    tx.publish(
      "shipping.shipment.allocation.failed",
      e.orderId,
      events.ShipmentAllocationEventSchema,
      { ...event, type: Type.FAILED },
    );
  } else {
    tx.publish("shipping.shipment.allocation", e.orderId, events.ShipmentAllocationEventSchema, {
      ...event,
      type: Type.ALLOCATED,
    });
  }
}

/**
 * Claims the order's shipment row with a CANCELLED marker when there is none (so that a later
 * allocation finds it and allocates nothing), or locks and reads back the one there is: where a
 * release or a cancellation meets an allocation or a dispatch, and exactly one of them wins.
 */
function claimOrderShipment(tx: Tx, e: { orderId: string; customerId?: string }) {
  return claimRow(
    () =>
      insertShipment(tx, {
        id: uuidv7(),
        orderId: e.orderId,
        customerId: e.customerId || null,
        status: ShipmentStatus.CANCELLED,
      }),
    () => lockShipmentOfOrder(tx, e.orderId),
  );
}

/**
 * `order.state.rejected` (a failed payment among the reasons): release an allocated shipment
 * (ALLOCATION_RELEASED). Decided by the order's shipment row: claimed here with a CANCELLED marker
 * when there is none (a later allocation finds it and allocates nothing), or, when the allocation
 * got there first (even while this ran), locked and read back.
 */
export async function releaseShipment(tx: Tx, e: OrderRef): Promise<void> {
  const claim = await claimOrderShipment(tx, e);
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

/** `order.state.approved`: the order is paid, so its shipment may now be dispatched. */
export async function readyShipment(tx: Tx, e: events.OrderApprovedEvent): Promise<void> {
  await markApproved(tx, e.orderId);
}

/**
 * `order.state.cancelling`: the cancellation meets any dispatch here, at the order's shipment row
 * (locked, or claimed with a CANCELLED marker if there is none). An ALLOCATED shipment is
 * RELEASED and `shipping.shipment.cancelled` tells the warehouse to return the stock and payment
 * to refund. A shipment that left already won: nothing happens here, and its dispatch event
 * (committed before this step could lock the row) moves the order to SHIPPED.
 */
export async function cancelShipment(tx: Tx, e: events.OrderCancellingEvent): Promise<void> {
  const claim = await claimOrderShipment(tx, e);
  const cancelled = (shipmentId: string, productQuantities: Record<string, number>) =>
    tx.publish("shipping.shipment.cancelled", e.orderId, events.ShipmentCancelledEventSchema, {
      revision: 1,
      orderId: e.orderId,
      customerId: e.customerId,
      shipmentId,
      productQuantities,
    });
  // No shipment at all (a paid order always has one; kept for safety): none will ever leave.
  if (claim.claimed) return void cancelled("", {});
  const s = claim.current;
  if (!transitions.canMove(s.status, ShipmentStatus.RELEASED)) return;
  await moveShipment(tx, s.id, ShipmentStatus.RELEASED);
  cancelled(s.id, await shipmentItems(tx, s.id));
}

function decided(d: FulfilmentDecision): boolean {
  if (d.action === "refuse") {
    const e = failedPrecondition(d.reason);
    if (d.soon) e.retryAfterSeconds = 1;
    throw e;
  }
  return d.action === "move";
}

function stateOf(s: ShipmentRow) {
  return {
    status: s.status,
    ready: s.approved_at !== null,
    carrier: s.carrier,
    trackingNumber: s.tracking_number,
  };
}

/**
 * One fulfilment move on the locked shipment: refused, a harmless repeat (the shipment as it is),
 * or made and announced.
 */
async function fulfil(
  tx: Tx,
  shipmentId: string,
  decide: (s: ReturnType<typeof stateOf>) => FulfilmentDecision,
  move: () => Promise<ShipmentRow | undefined>,
  announce: (before: ShipmentRow, after: ShipmentRow) => Promise<void>,
): Promise<ShipmentRow> {
  const s = await lockShipment(tx, shipmentId);
  if (!s) throw notFound("shipment");
  if (!decided(decide(stateOf(s)))) return s;
  const moved = await move();
  if (!moved) throw new Error(`shipment ${shipmentId} changed under its lock`);
  await announce(s, moved);
  return moved;
}

/**
 * Dispatches an approved order's shipment with a carrier (the admin route and the courier
 * simulator): ALLOCATED → DISPATCHED on the locked row, and `shipping.shipment.dispatched`, on
 * which the warehouse lets the stock go and the order becomes SHIPPED. A repeat with the same
 * details changes nothing; anything else that is not allowed throws FAILED_PRECONDITION (a
 * released shipment: the cancellation won).
 */
export function dispatchShipment(
  tx: Tx,
  shipmentId: string,
  d: { carrier: string; trackingNumber: string },
): Promise<ShipmentRow> {
  return fulfil(
    tx,
    shipmentId,
    (s) => decideDispatch(s, d.carrier, d.trackingNumber),
    () => markDispatched(tx, shipmentId, d),
    async (s) => {
      tx.publish("shipping.shipment.dispatched", s.order_id, events.ShipmentDispatchedEventSchema, {
        revision: 1,
        shipmentId,
        orderId: s.order_id,
        customerId: s.customer_id ?? "",
        productQuantities: await shipmentItems(tx, shipmentId),
        carrier: d.carrier,
        trackingNumber: d.trackingNumber,
      });
    },
  );
}

/**
 * Records a dispatched shipment's delivery (the admin route and the courier simulator):
 * DISPATCHED → DELIVERED and `shipping.shipment.delivered`, on which the order is COMPLETED. A
 * repeat changes nothing; a shipment not dispatched throws FAILED_PRECONDITION.
 */
export function deliverShipment(tx: Tx, shipmentId: string): Promise<ShipmentRow> {
  return fulfil(
    tx,
    shipmentId,
    decideDelivery,
    () => markDelivered(tx, shipmentId),
    (s) => {
      tx.publish("shipping.shipment.delivered", s.order_id, events.ShipmentDeliveredEventSchema, {
        revision: 1,
        shipmentId,
        orderId: s.order_id,
        customerId: s.customer_id ?? "",
        carrier: s.carrier ?? "",
        trackingNumber: s.tracking_number ?? "",
      });
      return Promise.resolve();
    },
  );
}
