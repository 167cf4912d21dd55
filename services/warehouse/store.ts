/**
 * Stock and reservations in SQL. Reserving takes row locks in product-id order, so concurrent
 * reservations cannot deadlock, and the `quantity >= q` guard (plus a CHECK) keeps stock ≥ 0.
 * @module
 */
import type { Sql, Tx, TxSql } from "@stocklet/shared/db";
import { warehouse } from "@stocklet/shared/proto";

/** Reservation statuses. */
export const ReservationStatus = warehouse.ReservationStatus;
/** A reservation status. */
export type ReservationStatus = warehouse.ReservationStatus;

/** A `product_stock` row. */
export interface StockRow {
  product_id: string;
  quantity: number;
}

/** A reservation with its items. */
export interface ReservationRow {
  id: string;
  order_id: string;
  customer_id: string | null;
  status: ReservationStatus;
  created_at: Date;
  updated_at: Date | null;
  /** Product id → quantity. */
  items: Record<string, number>;
}

/** One product's stock, or undefined. */
export async function findStock(sql: Sql | Tx, productId: string): Promise<StockRow | undefined> {
  const [row] = await sql<StockRow[]>`
    select product_id, quantity from product_stock where product_id = ${productId}`;
  return row;
}

/** The stock rows of the given products that exist (one query). */
export async function findStocks(sql: Sql, productIds: readonly string[]): Promise<StockRow[]> {
  return await sql<StockRow[]>`
    select product_id, quantity from product_stock where product_id = any(${productIds}::uuid[])`;
}

/** Opens a product's stock at a quantity; false if it already had a row. */
export async function openStock(tx: Tx, productId: string, quantity: number): Promise<boolean> {
  const rows = await tx`
    insert into product_stock (product_id, quantity) values (${productId}, ${quantity})
    on conflict (product_id) do nothing returning 1`;
  return rows.length > 0;
}

/** Adds units to a product's stock; undefined when the warehouse does not know the product. */
export async function addStock(
  tx: Tx,
  productId: string,
  quantity: number,
): Promise<StockRow | undefined> {
  const [row] = await tx<StockRow[]>`
    update product_stock set quantity = quantity + ${quantity}, updated_at = now()
    where product_id = ${productId}
    returning product_id, quantity`;
  return row;
}

/**
 * Takes every item out of stock, or none: returns the products short of stock (empty on success).
 * On a shortage the caller must roll back (this runs inside a savepoint for that).
 */
export async function takeStock(tx: TxSql, items: Record<string, number>): Promise<string[]> {
  const short: string[] = [];
  for (const productId of Object.keys(items).sort()) {
    const rows = await tx`
      update product_stock set quantity = quantity - ${items[productId]!}, updated_at = now()
      where product_id = ${productId} and quantity >= ${items[productId]!}
      returning 1`;
    if (rows.length === 0) short.push(productId);
  }
  return short;
}

/** Puts items back into stock. */
export async function returnStock(tx: Tx, items: Record<string, number>): Promise<void> {
  for (const productId of Object.keys(items).sort()) {
    await tx`
      update product_stock set quantity = quantity + ${items[productId]!}, updated_at = now()
      where product_id = ${productId}`;
  }
}

/** An order's reservation, locked for this transaction. */
export async function lockReservation(
  tx: Tx,
  orderId: string,
): Promise<ReservationRow | undefined> {
  const [row] = await tx<Omit<ReservationRow, "items">[]>`
    select * from reservations where order_id = ${orderId} for update`;
  if (!row) return undefined;
  return { ...row, items: await itemsOf(tx, row.id) };
}

/** A reservation by id. */
export async function findReservation(sql: Sql, id: string): Promise<ReservationRow | undefined> {
  const [row] = await sql<
    Omit<ReservationRow, "items">[]
  >`select * from reservations where id = ${id}`;
  if (!row) return undefined;
  return { ...row, items: await itemsOf(sql, row.id) };
}

async function itemsOf(sql: Sql | Tx, reservationId: string): Promise<Record<string, number>> {
  const rows = await sql<Array<{ product_id: string; quantity: number }>>`
    select product_id, quantity from reservation_items where reservation_id = ${reservationId}`;
  return Object.fromEntries(rows.map((r) => [r.product_id, r.quantity]));
}

/**
 * Records an order's reservation (with its items when reserved). False when the order already has
 * one: the unique order_id makes every reservation step happen once per order.
 */
export async function insertReservation(
  tx: Tx,
  r: {
    id: string;
    orderId: string;
    customerId: string | null;
    status: ReservationStatus;
    items?: Record<string, number>;
  },
): Promise<boolean> {
  const rows = await tx`
    insert into reservations (id, order_id, customer_id, status)
    values (${r.id}, ${r.orderId}, ${r.customerId}, ${r.status})
    on conflict (order_id) do nothing returning 1`;
  if (rows.length === 0) return false;
  const items = Object.entries(r.items ?? {}).map(([product_id, quantity]) => ({
    reservation_id: r.id,
    product_id,
    quantity,
  }));
  if (items.length) {
    await tx`insert into reservation_items ${
      tx(items, "reservation_id", "product_id", "quantity")
    }`;
  }
  return true;
}

/** Sets a reservation's status. */
export async function setReservationStatus(
  tx: Tx,
  id: string,
  status: ReservationStatus,
): Promise<void> {
  await tx`update reservations set status = ${status}, updated_at = now() where id = ${id}`;
}
