/**
 * The catalogue's SQL. Writes take the caller's transaction, so events publish atomically with them.
 * @module
 */
import type { Sql, Tx } from "@stocklet/shared/db";
import { isUuid } from "@stocklet/shared/ids";
import type { PageRequest } from "@stocklet/shared/paging";

/** A `products` row. */
export interface ProductRow {
  id: string;
  name: string;
  description: string;
  price_cents: bigint;
  created_at: Date;
  updated_at: Date | null;
}

/** The fields an update may change. */
export interface ProductPatch {
  name?: string;
  description?: string;
  priceCents?: bigint;
}

/** One product, or undefined. */
export async function findProduct(sql: Sql | Tx, id: string): Promise<ProductRow | undefined> {
  const [row] = await sql<ProductRow[]>`select * from products where id = ${id}`;
  return row;
}

/** A page of products, newest first (fetches one extra row to tell whether more follow). */
export function listProducts(sql: Sql, page: PageRequest): Promise<ProductRow[]> {
  return sql<ProductRow[]>`
    select * from products
    ${page.before ? sql`where id < ${page.before}` : sql``}
    order by id desc
    limit ${page.size + 1}`;
}

/** Inserts a product. */
export async function insertProduct(
  tx: Tx,
  p: { id: string; name: string; description: string; priceCents: bigint },
): Promise<ProductRow> {
  const [row] = await tx<ProductRow[]>`
    insert into products (id, name, description, price_cents)
    values (${p.id}, ${p.name}, ${p.description}, ${p.priceCents})
    returning *`;
  return row!;
}

/** Applies a patch, locking the row; returns the row before and after, or undefined if absent. */
export async function updateProduct(
  tx: Tx,
  id: string,
  patch: ProductPatch,
): Promise<{ before: ProductRow; after: ProductRow } | undefined> {
  const [before] = await tx<ProductRow[]>`select * from products where id = ${id} for update`;
  if (!before) return undefined;
  const [after] = await tx<ProductRow[]>`
    update products set
      name = ${patch.name ?? before.name},
      description = ${patch.description ?? before.description},
      price_cents = ${patch.priceCents ?? before.price_cents},
      updated_at = now()
    where id = ${id}
    returning *`;
  return { before, after: after! };
}

/** Unit prices of the given products that exist (an id that is no UUID names no product). */
export async function unitPrices(tx: Tx, ids: readonly string[]): Promise<Map<string, bigint>> {
  const valid = ids.filter(isUuid);
  if (!valid.length) return new Map();
  const rows = await tx<Array<{ id: string; price_cents: bigint }>>`
    select id, price_cents from products where id = any(${valid}::uuid[])`;
  return new Map(rows.map((r) => [r.id, r.price_cents]));
}
