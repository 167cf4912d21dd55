/**
 * The shipping API: a customer sees their own shipments (an admin sees any); the warehouse staff
 * (admins) dispatch them and record their delivery.
 * @module
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { requireAdmin } from "@stocklet/shared/auth";
import { type Sql, transaction } from "@stocklet/shared/db";
import { findOwned } from "@stocklet/shared/owned";
import { shipping } from "@stocklet/shared/proto";
import { bindService, type ServiceBinding } from "@stocklet/shared/server";
import { serviceInfo } from "@stocklet/shared/service_info";
import { tagActiveSpan } from "@stocklet/shared/tracing";
import { ShipmentStatus } from "./domain.ts";
import { deliverShipment, dispatchShipment } from "./steps.ts";
import { findShipment, shipmentItems, type ShipmentRow } from "./store.ts";

/** The wire form of a shipment. */
export function toShipment(s: ShipmentRow): shipping.Shipment {
  return create(shipping.ShipmentSchema, {
    id: s.id,
    orderId: s.order_id,
    customerId: s.customer_id ?? "",
    status: s.status,
    dispatched: s.status === ShipmentStatus.DISPATCHED || s.status === ShipmentStatus.DELIVERED,
    createdAt: timestampFromDate(s.created_at),
    ...(s.updated_at ? { updatedAt: timestampFromDate(s.updated_at) } : {}),
    ...(s.carrier ? { carrier: s.carrier } : {}),
    ...(s.tracking_number ? { trackingNumber: s.tracking_number } : {}),
    ...(s.dispatched_at ? { dispatchedAt: timestampFromDate(s.dispatched_at) } : {}),
    ...(s.delivered_at ? { deliveredAt: timestampFromDate(s.delivered_at) } : {}),
    ready: s.approved_at !== null,
  });
}

/** The ShippingService handlers. */
export function shippingRpc(sql: Sql): ServiceBinding {
  return bindService(shipping.ShippingService, {
    serviceInfo: () => Promise.resolve(serviceInfo("shipping")),

    async viewShipment(req, ctx) {
      const s = await findOwned(ctx.principal, "shipment", () => findShipment(sql, req.shipmentId));
      return { shipment: toShipment(s) };
    },

    async dispatchShipment(req, ctx) {
      requireAdmin(ctx.principal);
      const s = await transaction(
        sql,
        "dispatch shipment",
        (tx) =>
          dispatchShipment(tx, req.shipmentId, {
            carrier: req.carrier,
            trackingNumber: req.trackingNumber,
          }),
      );
      tagActiveSpan("stocklet.order_id", s.order_id);
      return { shipment: toShipment(s) };
    },

    async deliverShipment(req, ctx) {
      requireAdmin(ctx.principal);
      const s = await transaction(
        sql,
        "deliver shipment",
        (tx) => deliverShipment(tx, req.shipmentId),
      );
      tagActiveSpan("stocklet.order_id", s.order_id);
      return { shipment: toShipment(s) };
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
