/**
 * The order API. Customers place orders and see only their own; admins see any.
 * @module
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { isAdmin, requireAdmin, requireUser } from "@stocklet/shared/auth";
import { type Sql, transaction } from "@stocklet/shared/db";
import { notFound, permissionDenied } from "@stocklet/shared/errors";
import { findOwned } from "@stocklet/shared/owned";
import { pageOf, pageRequest } from "@stocklet/shared/paging";
import { order } from "@stocklet/shared/proto";
import { bindService, type ServiceBinding } from "@stocklet/shared/server";
import { serviceInfo } from "@stocklet/shared/service_info";
import { tagActiveSpan } from "@stocklet/shared/tracing";
import type { Admission } from "./admission.ts";
import { cancelOrder, placeOrder } from "./steps.ts";
import { findOrder, listOrders, type OrderRow, searchOrders } from "./store.ts";

/** The wire form of an order. */
export function toOrder(row: OrderRow): order.Order {
  return create(order.OrderSchema, {
    id: row.id,
    status: row.status,
    items: row.items,
    customerId: row.customer_id,
    ...(row.transaction_id ? { transactionId: row.transaction_id } : {}),
    ...(row.shipment_id ? { shippingId: row.shipment_id } : {}),
    createdAt: timestampFromDate(row.created_at),
    ...(row.updated_at ? { updatedAt: timestampFromDate(row.updated_at) } : {}),
    unitPricesCents: row.unit_prices,
    itemsPriceCents: row.items_price_cents ?? 0n,
    totalPriceCents: row.total_price_cents ?? 0n,
    rejectReason: row.reject_reason,
    ...(row.carrier ? { carrier: row.carrier } : {}),
    ...(row.tracking_number ? { trackingNumber: row.tracking_number } : {}),
    ...(row.shipped_at ? { shippedAt: timestampFromDate(row.shipped_at) } : {}),
    ...(row.delivered_at ? { deliveredAt: timestampFromDate(row.delivered_at) } : {}),
    ...(row.cancel_requested_at
      ? { cancelRequestedAt: timestampFromDate(row.cancel_requested_at) }
      : {}),
    refundedCents: row.refunded_cents ?? 0n,
  });
}

/** The OrderService handlers (new orders pass the admission gate first, when given one). */
export function orderRpc(sql: Sql, admission?: Admission): ServiceBinding {
  return bindService(order.OrderService, {
    serviceInfo: () => Promise.resolve(serviceInfo("order")),

    async viewOrder(req, ctx) {
      const row = await findOwned(ctx.principal, "order", () => findOrder(sql, req.orderId));
      return { order: toOrder(row) };
    },

    async viewOrders(req, ctx) {
      const user = requireUser(ctx.principal);
      const customerId = req.customerId || user.userId;
      if (customerId !== user.userId && !isAdmin(user)) {
        throw permissionDenied("customers may list only their own orders");
      }
      const page = pageRequest(req.pageSize, req.pageToken);
      const rows = await listOrders(sql, customerId, page);
      const { items, nextPageToken } = pageOf(rows, page, (r) => r.id);
      return { orders: items.map(toOrder), nextPageToken };
    },

    async searchOrders(req, ctx) {
      requireAdmin(ctx.principal);
      const page = pageRequest(req.pageSize, req.pageToken);
      const rows = await searchOrders(sql, {
        statuses: [...new Set(req.statuses)],
        ...(req.customerId ? { customerId: req.customerId.toLowerCase() } : {}),
      }, page);
      const { items, nextPageToken } = pageOf(rows, page, (r) => r.id);
      return { orders: items.map(toOrder), nextPageToken };
    },

    async placeOrder(req, ctx) {
      const user = requireUser(ctx.principal);
      const place = () =>
        transaction(sql, "place order", (tx) => placeOrder(tx, user.userId, req.cart));
      const row = admission ? await admission.place(place) : await place();
      tagActiveSpan("stocklet.order_id", row.id);
      return { order: toOrder(row) };
    },

    async cancelOrder(req, ctx) {
      // Owner or admin first (someone else's order is "not found"), then the decision on the
      // locked row, so two requests, or a request and the payment step, cannot both decide.
      await findOwned(ctx.principal, "order", () => findOrder(sql, req.orderId));
      tagActiveSpan("stocklet.order_id", req.orderId);
      const row = await transaction(sql, "cancel order", (tx) => cancelOrder(tx, req.orderId));
      if (!row) throw notFound("order");
      return { order: toOrder(row) };
    },
  });
}
