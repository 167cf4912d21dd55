/**
 * The shipping service: allocates a shipment for each reserved order (the saga's allocation step)
 * and releases it when the order fails. Config → database → servers and consumers.
 * @module
 */
import { int, loadConfig } from "@stocklet/shared/config";
import { connectDb } from "@stocklet/shared/db";
import { setupLogging } from "@stocklet/shared/logging";
import { commonConfig, startService } from "@stocklet/shared/service";
import { shippingReactions } from "./reactions.ts";
import { shippingRpc } from "./rpc.ts";

if (import.meta.main) {
  const config = loadConfig({
    ...commonConfig("shipping"),
    /** Units one shipment can carry; larger orders fail allocation (and are compensated). */
    maxUnitsPerShipment: int("SHIPPING_MAX_UNITS_PER_SHIPMENT", { default: 100, min: 1 }),
  });
  setupLogging("shipping");
  const sql = connectDb(config.databaseUrl);
  await startService({
    name: "shipping",
    config,
    sql,
    bindings: [shippingRpc(sql)],
    reactions: shippingReactions(config.maxUnitsPerShipment),
  });
}
