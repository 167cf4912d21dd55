/**
 * The warehouse API: public stock levels, reservations for their customer (or an admin), and
 * admin-only restocking (`warehouse.stock.added`).
 * @module
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { requireAdmin } from "@stocklet/shared/auth";
import { type Sql, transaction } from "@stocklet/shared/db";
import { notFound } from "@stocklet/shared/errors";
import { findOwned } from "@stocklet/shared/owned";
import { events, warehouse } from "@stocklet/shared/proto";
import { bindService, type ServiceBinding } from "@stocklet/shared/server";
import { serviceInfo } from "@stocklet/shared/service_info";
import { addStock, findReservation, findStock, findStocks, type ReservationRow } from "./store.ts";

function toReservation(r: ReservationRow): warehouse.Reservation {
  return create(warehouse.ReservationSchema, {
    id: r.id,
    orderId: r.order_id,
    customerId: r.customer_id ?? "",
    status: r.status,
    createdAt: timestampFromDate(r.created_at),
    reservedStock: Object.entries(r.items).map(([productId, quantity]) => ({
      productId,
      quantity,
    })),
  });
}

/** The WarehouseService handlers. */
export function warehouseRpc(sql: Sql): ServiceBinding {
  return bindService(warehouse.WarehouseService, {
    serviceInfo: () => Promise.resolve(serviceInfo("warehouse")),

    async viewProductStock(req) {
      const stock = await findStock(sql, req.productId);
      if (!stock) throw notFound("stock");
      return { stock: { productId: stock.product_id, quantity: stock.quantity } };
    },

    async viewStockLevels(req) {
      const rows = await findStocks(sql, req.productIds);
      const byId = new Map(rows.map((r) => [r.product_id, r.quantity]));
      // In the order asked (each product once), unknown products left out.
      const stocks = [...new Set(req.productIds.map((id) => id.toLowerCase()))]
        .filter((id) => byId.has(id))
        .map((productId) => ({ productId, quantity: byId.get(productId)! }));
      return { stocks };
    },

    async viewReservation(req, ctx) {
      const r = await findOwned(
        ctx.principal,
        "reservation",
        () => findReservation(sql, req.reservationId),
      );
      return { reservation: toReservation(r) };
    },

    async addStock(req, ctx) {
      requireAdmin(ctx.principal);
      const stock = await transaction(sql, "add stock", async (tx) => {
        const row = await addStock(tx, req.productId, req.quantity);
        if (!row) throw notFound("stock");
        tx.publish("warehouse.stock.added", req.productId, events.StockAddedEventSchema, {
          revision: 1,
          productId: req.productId,
          amount: req.quantity,
          newQuantity: row.quantity,
        });
        return row;
      });
      return { stock: { productId: stock.product_id, quantity: stock.quantity } };
    },
  }, {
    // A catalogue page reads its stock levels on every view: shared caches may keep them a second.
    publicCacheSeconds: { viewStockLevels: 1 },
  });
}
