/**
 * The warehouse's SQL: stock levels and each order's reservation. Stock rows are locked in
 * product-id order, so concurrent reservations cannot deadlock; `quantity >= q` guards (and a
 * CHECK) keep stock ≥ 0; reservation status changes are guarded by the domain's transitions.
 * @module
 */
import type { Sql, Tx } from "@stocklet/shared/db";
import { type ReservationStatus, transitions } from "./domain.ts";

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

/** The stock levels of the known products among `productIds`, locked (in id order) for this transaction. */
export async function lockStock(
  tx: Tx,
  productIds: readonly string[],
): Promise<Map<string, number>> {
  if (!productIds.length) return new Map();
  const rows = await tx<StockRow[]>`
    select product_id, quantity from product_stock
    where product_id = any(${productIds as string[]}::uuid[])
    order by product_id
    for update`;
  // Keyed by the ids as asked (Postgres answers the canonical lower-case form).
  const levels = new Map(rows.map((r) => [r.product_id, r.quantity]));
  return new Map(
    productIds.flatMap((id) => {
      const quantity = levels.get(id.toLowerCase());
      return quantity === undefined ? [] : [[id, quantity] as const];
    }),
  );
}

/**
 * Takes every item out of stock in one statement (the rows locked by {@linkcode lockStock}, the
 * levels checked by the domain). Throws if any item was not there after all: the transaction must
 * not commit half a reservation.
 */
export async function takeStock(tx: Tx, items: Readonly<Record<string, number>>): Promise<void> {
  const ids = Object.keys(items);
  const rows = await tx`
    update product_stock s set quantity = s.quantity - u.quantity, updated_at = now()
    from unnest(${ids}::uuid[], ${ids.map((id) => items[id]!)}::int[]) as u(product_id, quantity)
    where s.product_id = u.product_id and s.quantity >= u.quantity
    returning 1`;
  if (rows.length !== ids.length) {
    throw new Error(`took ${rows.length} of ${ids.length} products: stock changed under its lock`);
  }
}

/** Puts items back into stock (rows updated in product-id order). */
export async function returnStock(tx: Tx, items: Readonly<Record<string, number>>): Promise<void> {
  for (const productId of Object.keys(items).sort()) {
    await tx`
      update product_stock set quantity = quantity + ${items[productId]!}, updated_at = now()
      where product_id = ${productId}`;
  }
}

/**
 * Records an order's reservation. False when the order already has one: the unique order_id makes
 * every reservation step happen once per order.
 */
export async function insertReservation(
  tx: Tx,
  r: { id: string; orderId: string; customerId: string | null; status: ReservationStatus },
): Promise<boolean> {
  const rows = await tx`
    insert into reservations (id, order_id, customer_id, status)
    values (${r.id}, ${r.orderId}, ${r.customerId}, ${r.status})
    on conflict (order_id) do nothing returning 1`;
  return rows.length > 0;
}

/** Records what a reservation holds. */
export async function insertReservationItems(
  tx: Tx,
  reservationId: string,
  items: Readonly<Record<string, number>>,
): Promise<void> {
  const rows = Object.entries(items).map(([product_id, quantity]) => ({
    reservation_id: reservationId,
    product_id,
    quantity,
  }));
  await tx`insert into reservation_items ${tx(rows, "reservation_id", "product_id", "quantity")}`;
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
  const [row] = await sql<Omit<ReservationRow, "items">[]>`
    select * from reservations where id = ${id}`;
  if (!row) return undefined;
  return { ...row, items: await itemsOf(sql, row.id) };
}

async function itemsOf(sql: Sql | Tx, reservationId: string): Promise<Record<string, number>> {
  const rows = await sql<Array<{ product_id: string; quantity: number }>>`
    select product_id, quantity from reservation_items where reservation_id = ${reservationId}`;
  return Object.fromEntries(rows.map((r) => [r.product_id, r.quantity]));
}

/** Moves a reservation to `to` if the domain allows it from its status; false otherwise. */
export async function moveReservation(
  tx: Tx,
  id: string,
  to: ReservationStatus,
): Promise<boolean> {
  const rows = await tx`
    update reservations set status = ${to}, updated_at = now()
    where id = ${id} and status = any(${transitions.sourcesOf(to)}::smallint[])
    returning 1`;
  return rows.length > 0;
}
