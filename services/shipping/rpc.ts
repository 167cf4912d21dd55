/**
 * The shipping API: a customer sees their own shipments (an admin sees any).
 * @module
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { isAdmin, type Principal, requireUser } from "@stocklet/shared/auth";
import type { Sql } from "@stocklet/shared/db";
import { notFound } from "@stocklet/shared/errors";
import { shipping } from "@stocklet/shared/proto";
import { bindService, type ServiceBinding } from "@stocklet/shared/server";
import { serviceInfo } from "@stocklet/shared/service_info";
import { findShipment, shipmentItems, type ShipmentRow, ShipmentStatus } from "./store.ts";

async function ownShipment(sql: Sql, id: string, user: Principal): Promise<ShipmentRow> {
  const s = await findShipment(sql, id);
  if (!s || (s.customer_id !== user.userId && !isAdmin(user))) throw notFound("shipment");
  return s;
}

/** The ShippingService handlers. */
export function shippingRpc(sql: Sql): ServiceBinding {
  return bindService(shipping.ShippingService, {
    serviceInfo: () => Promise.resolve(serviceInfo("shipping")),

    async viewShipment(req, ctx) {
      const s = await ownShipment(sql, req.shipmentId, requireUser(ctx.principal));
      return {
        shipment: create(shipping.ShipmentSchema, {
          id: s.id,
          orderId: s.order_id,
          customerId: s.customer_id ?? "",
          status: s.status,
          dispatched: s.status === ShipmentStatus.DISPATCHED,
          createdAt: timestampFromDate(s.created_at),
          ...(s.updated_at ? { updatedAt: timestampFromDate(s.updated_at) } : {}),
        }),
      };
    },

    async viewShipmentManifest(req, ctx) {
      const s = await ownShipment(sql, req.shipmentId, requireUser(ctx.principal));
      const items = await shipmentItems(sql, s.id);
      return {
        manifest: Object.entries(items).map(([productId, quantity]) => ({
          shipmentId: s.id,
          productId,
          quantity,
        })),
      };
    },
  });
}
