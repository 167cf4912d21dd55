/**
 * The warehouse service: stock levels, and the reserve / consume / return steps of the
 * place-order saga. Config → database → servers and consumers.
 * @module
 */
import { loadConfig } from "@stocklet/shared/config";
import { connectDb } from "@stocklet/shared/db";
import { setupLogging } from "@stocklet/shared/logging";
import { commonConfig, startService } from "@stocklet/shared/service";
import { warehouseReactions } from "./reactions.ts";
import { warehouseRpc } from "./rpc.ts";

if (import.meta.main) {
  const config = loadConfig(commonConfig("warehouse"));
  setupLogging("warehouse");
  const sql = connectDb(config.databaseUrl);
  await startService({
    name: "warehouse",
    config,
    sql,
    bindings: [warehouseRpc(sql)],
    reactions: warehouseReactions(),
  });
}
