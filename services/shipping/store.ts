/**
 * Shipments in SQL.
 * @module
 */
import type { Sql, Tx } from "@stocklet/shared/db";
import { shipping } from "@stocklet/shared/proto";

/** Shipment statuses. */
export const ShipmentStatus = shipping.ShipmentStatus;
/** A shipment status. */
export type ShipmentStatus = shipping.ShipmentStatus;

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
  s: {
    id: string;
    orderId: string;
    customerId: string | null;
    status: ShipmentStatus;
    items?: Record<string, number>;
  },
): Promise<boolean> {
  const rows = await tx`
    insert into shipments (id, order_id, customer_id, status)
    values (${s.id}, ${s.orderId}, ${s.customerId}, ${s.status})
    on conflict (order_id) do nothing returning 1`;
  if (rows.length === 0) return false;
  const items = Object.entries(s.items ?? {}).map(([product_id, quantity]) => ({
    shipment_id: s.id,
    product_id,
    quantity,
  }));
  if (items.length) {
    await tx`insert into shipment_items ${tx(items, "shipment_id", "product_id", "quantity")}`;
  }
  return true;
}

/** An order's shipment, locked for this transaction. */
export async function lockShipmentOfOrder(
  tx: Tx,
  orderId: string,
): Promise<ShipmentRow | undefined> {
  const [row] = await tx<
    ShipmentRow[]
  >`select * from shipments where order_id = ${orderId} for update`;
  return row;
}

/** Sets a shipment's status. */
export async function setShipmentStatus(tx: Tx, id: string, status: ShipmentStatus): Promise<void> {
  await tx`update shipments set status = ${status}, updated_at = now() where id = ${id}`;
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
