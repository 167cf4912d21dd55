/**
 * The orders' SQL. Every status change is a conditional update guarded by the domain's transitions
 * (`where status = any(sourcesOf(to))`), so two deliveries racing for one order cannot both move
 * it, and nothing moves an order backwards.
 * @module
 */
import type { Sql, Tx } from "@stocklet/shared/db";
import type { PageRequest } from "@stocklet/shared/paging";
import type { Priced } from "@stocklet/shared/pricing";
import { IN_FLIGHT, type RejectReason, Status, transitions } from "./domain.ts";

/** An `orders` row with its items. */
export interface OrderRow {
  id: string;
  customer_id: string;
  status: Status;
  items_price_cents: bigint | null;
  total_price_cents: bigint | null;
  shipment_id: string | null;
  transaction_id: string | null;
  reject_reason: RejectReason;
  created_at: Date;
  updated_at: Date | null;
  carrier: string | null;
  tracking_number: string | null;
  shipped_at: Date | null;
  delivered_at: Date | null;
  cancel_requested_at: Date | null;
  stock_returned_at: Date | null;
  refunded_cents: bigint | null;
  /** Product id → quantity. */
  items: Record<string, number>;
  /** Product id → unit price (once quoted). */
  unit_prices: Record<string, bigint>;
}

/** An `orders` row without its items. */
export type OrderState = Omit<OrderRow, "items" | "unit_prices">;
type Row = OrderState;
interface ItemRow {
  order_id: string;
  product_id: string;
  quantity: number;
  unit_price_cents: bigint | null;
}

async function withItems(sql: Sql | Tx, rows: Row[]): Promise<OrderRow[]> {
  if (!rows.length) return [];
  const items = await sql<ItemRow[]>`
    select * from order_items where order_id = any(${rows.map((r) => r.id)}::uuid[])`;
  const byOrder = new Map<string, ItemRow[]>();
  for (const it of items) {
    const list = byOrder.get(it.order_id) ?? [];
    list.push(it);
    byOrder.set(it.order_id, list);
  }
  return rows.map((r) => {
    const its = byOrder.get(r.id) ?? [];
    return {
      ...r,
      items: Object.fromEntries(its.map((i) => [i.product_id, i.quantity])),
      unit_prices: Object.fromEntries(
        its.filter((i) => i.unit_price_cents !== null).map((
          i,
        ) => [i.product_id, i.unit_price_cents!]),
      ),
    };
  });
}

/** One order with its items, or undefined (one query). */
export async function findOrder(sql: Sql | Tx, id: string): Promise<OrderRow | undefined> {
  const [row] = await sql<Array<Row & { item_rows: Array<[string, number, string | null]> }>>`
    select o.*, coalesce((
      select json_agg(json_build_array(i.product_id, i.quantity, i.unit_price_cents::text))
      from order_items i where i.order_id = o.id
    ), '[]'::json) as item_rows
    from orders o where o.id = ${id}`;
  if (!row) return undefined;
  const { item_rows, ...order } = row;
  return {
    ...order,
    items: Object.fromEntries(item_rows.map(([p, q]) => [p, q])),
    unit_prices: Object.fromEntries(
      item_rows.filter(([, , u]) => u !== null).map(([p, , u]) => [p, BigInt(u!)]),
    ),
  };
}

/** A page of a customer's orders, newest first (one extra row to tell whether more follow). */
export async function listOrders(
  sql: Sql,
  customerId: string,
  page: PageRequest,
): Promise<OrderRow[]> {
  const rows = await sql<Row[]>`
    select * from orders
    where customer_id = ${customerId} ${page.before ? sql`and id < ${page.before}` : sql``}
    order by id desc
    limit ${page.size + 1}`;
  return withItems(sql, rows);
}

/**
 * A page of every customer's orders, newest first, optionally only some statuses or one customer
 * (one extra row to tell whether more follow). An admin's query: it walks the primary key newest
 * first rather than adding an index on status, which every saga step would have to update.
 */
export async function searchOrders(
  sql: Sql,
  filter: { statuses: readonly Status[]; customerId?: string },
  page: PageRequest,
): Promise<OrderRow[]> {
  const rows = await sql<Row[]>`
    select * from orders
    where true
      ${filter.customerId ? sql`and customer_id = ${filter.customerId}` : sql``}
      ${
    filter.statuses.length
      ? sql`and status = any(${filter.statuses as number[]}::smallint[])`
      : sql``
  }
      ${page.before ? sql`and id < ${page.before}` : sql``}
    order by id desc
    limit ${page.size + 1}`;
  return withItems(sql, rows);
}

/**
 * Inserts a new order with its items: PROCESSING, or PENDING with its prices when it was priced
 * as it was placed. Both statements travel together (the order id is ours, nothing waits on a reply).
 */
export async function insertOrder(
  tx: Tx,
  o: {
    id: string;
    customerId: string;
    status: Status;
    items: Record<string, number>;
    priced?: Omit<Priced, "kind">;
  },
): Promise<OrderRow> {
  const total = o.priced?.totalCents ?? null;
  const items = Object.entries(o.items).map(([product_id, quantity]) => ({
    order_id: o.id,
    product_id,
    quantity,
    unit_price_cents: o.priced ? String(o.priced.unitCents[product_id]) : null,
  }));
  const [[row]] = await Promise.all([
    tx<Row[]>`
      insert into orders (id, customer_id, status, items_price_cents, total_price_cents)
      values (${o.id}, ${o.customerId}, ${o.status}, ${total}, ${total})
      returning *`,
    tx`insert into order_items ${
      tx(items, "order_id", "product_id", "quantity", "unit_price_cents")
    }`,
  ]);
  return { ...row!, items: { ...o.items }, unit_prices: { ...o.priced?.unitCents } };
}

/** The catalogue prices the order service knows (product id → unit price) of these products. */
export async function knownPrices(tx: Tx, ids: readonly string[]): Promise<Map<string, bigint>> {
  const rows = await tx<Array<{ product_id: string; price_cents: bigint }>>`
    select product_id, price_cents from price_list
    where product_id = any(${ids as string[]}::uuid[]) and price_cents is not null`;
  return new Map(rows.map((r) => [r.product_id, r.price_cents]));
}

/**
 * Records a product's price (null: the product left the catalogue) as of the event `version` (its
 * id, a UUIDv7); an event older than the one recorded changes nothing.
 */
export async function rememberPrice(
  tx: Tx,
  productId: string,
  priceCents: bigint | null,
  version: string,
): Promise<void> {
  await tx`
    insert into price_list (product_id, price_cents, version)
    values (${productId}, ${priceCents}, ${version})
    on conflict (product_id) do update
      set price_cents = excluded.price_cents, version = excluded.version
      where price_list.version < excluded.version`;
}

/**
 * Moves an order to PENDING with its prices if it may (it is still PROCESSING); undefined when it
 * may not (a late or repeated quote).
 */
export async function markPending(
  tx: Tx,
  id: string,
  prices: { unit: Record<string, bigint>; itemsCents: bigint; totalCents: bigint },
  /** The order's items (product id → quantity), as read before. */
  items: Record<string, number>,
): Promise<OrderRow | undefined> {
  const [row] = await tx<Row[]>`
    update orders set status = ${Status.PENDING}, items_price_cents = ${prices.itemsCents},
      total_price_cents = ${prices.totalCents}, updated_at = now()
    where id = ${id} and status = any(${transitions.sourcesOf(Status.PENDING)}::smallint[])
    returning *`;
  if (!row) return undefined;
  const ids = Object.keys(prices.unit);
  const units = ids.map((id) => String(prices.unit[id]));
  await tx`
    update order_items i set unit_price_cents = u.unit
    from unnest(${ids}::uuid[], ${units}::bigint[]) as u(product_id, unit)
    where i.order_id = ${id} and i.product_id = u.product_id`;
  return { ...row, items, unit_prices: { ...prices.unit } };
}

/**
 * Moves an order to `to` if the domain allows it from its status, setting the given columns;
 * undefined if it may not. Returns the order without its items (no step after pricing needs them).
 */
export async function moveOrder(
  tx: Tx,
  id: string,
  to: Status,
  set: { transactionId?: string; shipmentId?: string; rejectReason?: RejectReason } = {},
): Promise<OrderState | undefined> {
  const [row] = await tx<Row[]>`
    update orders set status = ${to},
      transaction_id = coalesce(${set.transactionId ?? null}::uuid, transaction_id),
      shipment_id = coalesce(${set.shipmentId ?? null}::uuid, shipment_id),
      reject_reason = coalesce(${set.rejectReason ?? null}::smallint, reject_reason),
      updated_at = now()
    where id = ${id} and status = any(${transitions.sourcesOf(to)}::smallint[])
    returning *`;
  return row;
}

/**
 * The payment step's outcome: PENDING → APPROVED, or → CANCELLING when a cancellation was asked
 * for meanwhile (one statement: the approval stays one round trip). Undefined when the order was
 * not PENDING (a late or repeated payment).
 */
export async function markPaid(
  tx: Tx,
  id: string,
  set: { transactionId: string; shipmentId?: string },
): Promise<OrderState | undefined> {
  const from = transitions.sourcesOf(Status.APPROVED).filter((s) =>
    transitions.canMove(s, Status.CANCELLING)
  );
  const [row] = await tx<Row[]>`
    update orders set
      status = case when cancel_requested_at is null then ${Status.APPROVED}::smallint
        else ${Status.CANCELLING}::smallint end,
      transaction_id = ${set.transactionId}::uuid,
      shipment_id = coalesce(${set.shipmentId ?? null}::uuid, shipment_id),
      updated_at = now()
    where id = ${id} and status = any(${from}::smallint[])
    returning *`;
  return row;
}

/** An order without its items, locked for this transaction. */
export async function lockOrder(tx: Tx, id: string): Promise<OrderState | undefined> {
  const [row] = await tx<Row[]>`select * from orders where id = ${id} for update`;
  return row;
}

/** Records that a cancellation was asked for (the first time only). */
export async function markCancelRequested(tx: Tx, id: string): Promise<void> {
  await tx`
    update orders set cancel_requested_at = coalesce(cancel_requested_at, now()), updated_at = now()
    where id = ${id}`;
}

/**
 * Records the shipment's dispatch or delivery on the order and moves it to `to` (SHIPPED or
 * COMPLETED) if the domain allows it; the details are kept whatever the status (a delivery seen
 * before its dispatch, a dispatch that lost to nothing). Undefined when the order is unknown.
 */
export async function recordShipment(
  tx: Tx,
  id: string,
  to: Status,
  s: { shipmentId: string; carrier: string; trackingNumber: string; delivered: boolean },
): Promise<{ moved: boolean; row: OrderState } | undefined> {
  const [row] = await tx<Array<Row & { previous_status: Status }>>`
    with old as (select id, status from orders where id = ${id} for update)
    update orders o set
      status = case when old.status = any(${transitions.sourcesOf(to)}::smallint[])
        then ${to}::smallint else old.status end,
      shipment_id = coalesce(o.shipment_id, ${s.shipmentId}::uuid),
      carrier = coalesce(nullif(${s.carrier}, ''), o.carrier),
      tracking_number = coalesce(nullif(${s.trackingNumber}, ''), o.tracking_number),
      shipped_at = coalesce(o.shipped_at, now()),
      delivered_at = case when ${s.delivered} then coalesce(o.delivered_at, now())
        else o.delivered_at end,
      updated_at = now()
    from old where o.id = old.id
    returning o.*, old.status as previous_status`;
  if (!row) return undefined;
  const { previous_status, ...rest } = row;
  return { moved: previous_status !== rest.status, row: rest };
}

/**
 * Records one of a cancellation's compensations on a CANCELLING order (the stock returned, or the
 * refund and its amount) and returns the order as it now stands; undefined when the order is not
 * CANCELLING (the report belongs to a rejection's compensation, or came twice).
 */
export async function recordCompensation(
  tx: Tx,
  id: string,
  done: { stockReturned: true } | { refundedCents: bigint },
): Promise<OrderState | undefined> {
  const stock = "stockReturned" in done;
  const refund = "refundedCents" in done ? done.refundedCents : null;
  const [row] = await tx<Row[]>`
    update orders set
      stock_returned_at = case when ${stock} then coalesce(stock_returned_at, now())
        else stock_returned_at end,
      refunded_cents = coalesce(refunded_cents, ${refund}::bigint),
      updated_at = now()
    where id = ${id} and status = ${Status.CANCELLING}
    returning *`;
  return row;
}

/** Ids of in-flight orders older than the cutoff, locked for this transaction (others skip them). */
export async function lockStalled(tx: Tx, olderThan: Date, limit: number): Promise<string[]> {
  const rows = await tx<Array<{ id: string }>>`
    select id from orders
    where status = any(${IN_FLIGHT as Status[]}::smallint[]) and created_at < ${olderThan}
    order by created_at
    limit ${limit}
    for update skip locked`;
  return rows.map((r) => r.id);
}

/** How many orders are in flight (PROCESSING or PENDING), from the partial index. */
export async function countInFlight(sql: Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from orders where status in (1, 2)`;
  return row!.n;
}
