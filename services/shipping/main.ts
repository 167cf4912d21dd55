/**
 * The shipping service: allocates a shipment for each reserved order (the saga's allocation step)
 * and releases it when the order fails.
 * @module
 */
import { int } from "@stocklet/shared/config";
import { runService } from "@stocklet/shared/service";
import { shippingReactions } from "./reactions.ts";
import { shippingRpc } from "./rpc.ts";

if (import.meta.main) {
  await runService("shipping", {
    config: {
      /** Units one shipment can carry; larger orders fail allocation (and are compensated). */
      maxUnitsPerShipment: int("SHIPPING_MAX_UNITS_PER_SHIPMENT", { default: 100, min: 1 }),
    },
    bindings: (sql) => [shippingRpc(sql)],
    reactions: (config) => shippingReactions(config.maxUnitsPerShipment),
  });
}
