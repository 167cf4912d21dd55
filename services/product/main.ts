/**
 * The product service: the catalogue, and the price quote step of the place-order saga.
 * Config → database → servers and consumers.
 * @module
 */
import { loadConfig } from "@stocklet/shared/config";
import { connectDb } from "@stocklet/shared/db";
import { setupLogging } from "@stocklet/shared/logging";
import { commonConfig, startService } from "@stocklet/shared/service";
import { productReactions } from "./reactions.ts";
import { productRpc } from "./rpc.ts";

if (import.meta.main) {
  const config = loadConfig(commonConfig("product"));
  setupLogging("product");
  const sql = connectDb(config.databaseUrl);
  await startService({
    name: "product",
    config,
    sql,
    bindings: [productRpc(sql)],
    reactions: productReactions(),
  });
}
