/**
 * The shipping service: allocates a shipment for each reserved order (the saga's allocation step)
 * and releases it when the order fails or is cancelled; dispatches and delivers approved orders'
 * shipments (admin routes, or the courier simulator in development).
 * @module
 */
import { bool, int } from "@stocklet/shared/config";
import { runService } from "@stocklet/shared/service";
import { courierSimulator } from "./courier.ts";
import { shippingReactions } from "./reactions.ts";
import { shippingRpc } from "./rpc.ts";

if (import.meta.main) {
  await runService("shipping", {
    config: {
      /** Units one shipment can carry; larger orders fail allocation (and are compensated). */
      maxUnitsPerShipment: int("SHIPPING_MAX_UNITS_PER_SHIPMENT", { default: 100, min: 1 }),
      /** The courier simulator: dispatches and delivers approved orders by itself (dev). */
      courier: bool("STOCKLET_COURIER", { default: false }),
      courierDispatchMs: int("STOCKLET_COURIER_DISPATCH_MS", { default: 5_000, min: 0 }),
      courierDeliverMs: int("STOCKLET_COURIER_DELIVER_MS", { default: 10_000, min: 0 }),
    },
    bindings: (sql) => [shippingRpc(sql)],
    reactions: (config) => shippingReactions(config.maxUnitsPerShipment),
    tasks: (sql, config) =>
      config.courier
        ? [courierSimulator(sql, {
          dispatchMs: config.courierDispatchMs,
          deliverMs: config.courierDeliverMs,
        })]
        : [],
  });
}
