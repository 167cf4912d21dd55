/**
 * The shipping API: a customer sees their own shipments (an admin sees any).
 * @module
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Sql } from "@stocklet/shared/db";
import { findOwned } from "@stocklet/shared/owned";
import { shipping } from "@stocklet/shared/proto";
import { bindService, type ServiceBinding } from "@stocklet/shared/server";
import { serviceInfo } from "@stocklet/shared/service_info";
import { ShipmentStatus } from "./domain.ts";
import { findShipment, shipmentItems } from "./store.ts";

/** The ShippingService handlers. */
export function shippingRpc(sql: Sql): ServiceBinding {
  return bindService(shipping.ShippingService, {
    serviceInfo: () => Promise.resolve(serviceInfo("shipping")),

    async viewShipment(req, ctx) {
      const s = await findOwned(ctx.principal, "shipment", () => findShipment(sql, req.shipmentId));
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
      const s = await findOwned(ctx.principal, "shipment", () => findShipment(sql, req.shipmentId));
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
