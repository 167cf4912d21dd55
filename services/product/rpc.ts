/**
 * The product API: public catalogue reads, admin-only writes. Creating a product publishes
 * `product.state.created` (the warehouse opens its stock row); a price change publishes
 * `product.attr.price`.
 * @module
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { requireAdmin } from "@stocklet/shared/auth";
import { type Sql, transaction } from "@stocklet/shared/db";
import { notFound } from "@stocklet/shared/errors";
import { uuidv7 } from "@stocklet/shared/ids";
import { pageOf, pageRequest } from "@stocklet/shared/paging";
import { events, product } from "@stocklet/shared/proto";
import { bindService, type ServiceBinding } from "@stocklet/shared/server";
import { serviceInfo } from "@stocklet/shared/service_info";
import {
  findProduct,
  insertProduct,
  listProducts,
  type ProductRow,
  updateProduct,
} from "./store.ts";

/** The wire form of a row. */
export function toProduct(row: ProductRow): product.Product {
  return create(product.ProductSchema, {
    id: row.id,
    name: row.name,
    description: row.description,
    priceCents: row.price_cents,
    createdAt: timestampFromDate(row.created_at),
    ...(row.updated_at ? { updatedAt: timestampFromDate(row.updated_at) } : {}),
  });
}

/** The ProductService handlers. */
export function productRpc(sql: Sql): ServiceBinding {
  return bindService(product.ProductService, {
    serviceInfo: () => Promise.resolve(serviceInfo("product")),

    async viewProducts(req) {
      const page = pageRequest(req.pageSize, req.pageToken);
      const { items, nextPageToken } = pageOf(await listProducts(sql, page), page, (r) => r.id);
      return { products: items.map(toProduct), nextPageToken };
    },

    async viewProduct(req) {
      const row = await findProduct(sql, req.id);
      if (!row) throw notFound("product");
      return { product: toProduct(row) };
    },

    async createProduct(req, ctx) {
      requireAdmin(ctx.principal);
      const row = await transaction(sql, "create product", async (tx) => {
        const row = await insertProduct(tx, {
          id: uuidv7(),
          name: req.name,
          description: req.description,
          priceCents: req.priceCents,
        });
        tx.publish("product.state.created", row.id, events.ProductCreatedEventSchema, {
          revision: 1,
          productId: row.id,
          name: row.name,
          description: row.description,
          priceCents: row.price_cents,
        });
        return row;
      });
      return { product: toProduct(row) };
    },

    async updateProduct(req, ctx) {
      requireAdmin(ctx.principal);
      const row = await transaction(sql, "update product", async (tx) => {
        const changed = await updateProduct(tx, req.id, {
          ...(req.name !== undefined ? { name: req.name } : {}),
          ...(req.description !== undefined ? { description: req.description } : {}),
          ...(req.priceCents !== undefined ? { priceCents: req.priceCents } : {}),
        });
        if (!changed) throw notFound("product");
        if (changed.before.price_cents !== changed.after.price_cents) {
          tx.publish("product.attr.price", req.id, events.ProductPriceUpdatedEventSchema, {
            revision: 1,
            productId: req.id,
            priceCents: changed.after.price_cents,
          });
        }
        return changed.after;
      });
      return { product: toProduct(row) };
    },
  }, {
    // The catalogue is public and read far more than written: shared caches may keep it a second.
    publicCacheSeconds: { viewProducts: 1, viewProduct: 1 },
  });
}
