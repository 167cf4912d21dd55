/**
 * The payment service: customer balances, and the payment (and refund) step of the place-order
 * saga. Config → database → servers and consumers.
 * @module
 */
import { loadConfig } from "@stocklet/shared/config";
import { connectDb } from "@stocklet/shared/db";
import { setupLogging } from "@stocklet/shared/logging";
import { commonConfig, startService } from "@stocklet/shared/service";
import { paymentReactions } from "./reactions.ts";
import { paymentRpc } from "./rpc.ts";

if (import.meta.main) {
  const config = loadConfig(commonConfig("payment"));
  setupLogging("payment");
  const sql = connectDb(config.databaseUrl);
  await startService({
    name: "payment",
    config,
    sql,
    bindings: [paymentRpc(sql)],
    reactions: paymentReactions(),
  });
}
