/**
 * Shipments in SQL: each order's one shipment row and its items. Status changes are guarded by the
 * domain's transitions.
 * @module
 */
import type { Sql, Tx } from "@stocklet/shared/db";
import { type ShipmentStatus, transitions } from "./domain.ts";

/** A `shipments` row. */
export interface ShipmentRow {
  id: string;
  order_id: string;
  customer_id: string | null;
  status: ShipmentStatus;
  created_at: Date;
  updated_at: Date | null;
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
