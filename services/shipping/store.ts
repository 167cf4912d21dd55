/**
 * Shipments in SQL: each order's one shipment row and its items. Status changes are guarded by the
 * domain's transitions.
 * @module
 */
import type { Sql, Tx } from "@stocklet/shared/db";
import { ShipmentStatus, transitions } from "./domain.ts";

/** A `shipments` row. */
export interface ShipmentRow {
  id: string;
  order_id: string;
  customer_id: string | null;
  status: ShipmentStatus;
  created_at: Date;
  updated_at: Date | null;
  approved_at: Date | null;
  carrier: string | null;
  tracking_number: string | null;
  dispatched_at: Date | null;
  delivered_at: Date | null;
}

/** Records an order's shipment; false when the order already has one. */
export async function insertShipment(
  tx: Tx,
  s: { id: string; orderId: string; customerId: string | null; status: ShipmentStatus },
): Promise<boolean> {
  const rows = await tx`
    insert into shipments (id, order_id, customer_id, status)
    values (${s.id}, ${s.orderId}, ${s.customerId}, ${s.status})
    on conflict (order_id) do nothing returning 1`;
  return rows.length > 0;
}

/** Records what a shipment carries. */
export async function insertShipmentItems(
  tx: Tx,
  shipmentId: string,
  items: Readonly<Record<string, number>>,
): Promise<void> {
  const rows = Object.entries(items).map(([product_id, quantity]) => ({
    shipment_id: shipmentId,
    product_id,
    quantity,
  }));
  if (!rows.length) return;
  await tx`insert into shipment_items ${tx(rows, "shipment_id", "product_id", "quantity")}`;
}

/** An order's shipment, locked for this transaction. */
export async function lockShipmentOfOrder(
  tx: Tx,
  orderId: string,
): Promise<ShipmentRow | undefined> {
  const [row] = await tx<ShipmentRow[]>`
    select * from shipments where order_id = ${orderId} for update`;
  return row;
}

/** Moves a shipment to `to` if the domain allows it from its status; false otherwise. */
export async function moveShipment(tx: Tx, id: string, to: ShipmentStatus): Promise<boolean> {
  const rows = await tx`
    update shipments set status = ${to}, updated_at = now()
    where id = ${id} and status = any(${transitions.sourcesOf(to)}::smallint[])
    returning 1`;
  return rows.length > 0;
}

/** A shipment by id. */
export async function findShipment(sql: Sql, id: string): Promise<ShipmentRow | undefined> {
  const [row] = await sql<ShipmentRow[]>`select * from shipments where id = ${id}`;
  return row;
}

/** A shipment's items: product id → quantity. */
export async function shipmentItems(sql: Sql | Tx, id: string): Promise<Record<string, number>> {
  const rows = await sql<Array<{ product_id: string; quantity: number }>>`
    select product_id, quantity from shipment_items where shipment_id = ${id} order by product_id`;
  return Object.fromEntries(rows.map((r) => [r.product_id, r.quantity]));
}

/** A shipment by id, locked for this transaction. */
export async function lockShipment(tx: Tx, id: string): Promise<ShipmentRow | undefined> {
  const [row] = await tx<ShipmentRow[]>`select * from shipments where id = ${id} for update`;
  return row;
}

/** Marks an order's shipment ready for dispatch (its order was approved); idempotent. */
export async function markApproved(tx: Tx, orderId: string): Promise<void> {
  await tx`
    update shipments set approved_at = coalesce(approved_at, now()), updated_at = now()
    where order_id = ${orderId}`;
}

/** ALLOCATED → DISPATCHED with the carrier's details (guarded by the transitions). */
export async function markDispatched(
  tx: Tx,
  id: string,
  d: { carrier: string; trackingNumber: string },
): Promise<ShipmentRow | undefined> {
  const [row] = await tx<ShipmentRow[]>`
    update shipments set status = ${ShipmentStatus.DISPATCHED}, carrier = ${d.carrier},
      tracking_number = ${d.trackingNumber}, dispatched_at = now(), updated_at = now()
    where id = ${id}
      and status = any(${transitions.sourcesOf(ShipmentStatus.DISPATCHED)}::smallint[])
    returning *`;
  return row;
}

/** DISPATCHED → DELIVERED (guarded by the transitions). */
export async function markDelivered(tx: Tx, id: string): Promise<ShipmentRow | undefined> {
  const [row] = await tx<ShipmentRow[]>`
    update shipments set status = ${ShipmentStatus.DELIVERED}, delivered_at = now(),
      updated_at = now()
    where id = ${id}
      and status = any(${transitions.sourcesOf(ShipmentStatus.DELIVERED)}::smallint[])
    returning *`;
  return row;
}

/**
 * Approved shipments still in the warehouse since before `before`, or dispatched ones in transit
 * since before it (the courier simulator's next moves), locked; others' locked rows are skipped.
 */
export async function lockDue(
  tx: Tx,
  what: "dispatch" | "delivery",
  before: Date,
  limit: number,
): Promise<string[]> {
  const rows = what === "dispatch"
    ? await tx<Array<{ id: string }>>`
      select id from shipments
      where status = ${ShipmentStatus.ALLOCATED} and approved_at is not null
        and approved_at < ${before}
      order by approved_at limit ${limit} for update skip locked`
    : await tx<Array<{ id: string }>>`
      select id from shipments
      where status = ${ShipmentStatus.DISPATCHED} and dispatched_at < ${before}
      order by dispatched_at limit ${limit} for update skip locked`;
  return rows.map((r) => r.id);
}
