/**
 * The order service: places orders and follows each one through the place-order saga, rejecting
 * (with full compensation) any saga that stalls past its timeout.
 * Config → database → servers, consumers and the timeout sweeper.
 * @module
 */
import { int, loadConfig } from "@stocklet/shared/config";
import { connectDb } from "@stocklet/shared/db";
import { setupLogging } from "@stocklet/shared/logging";
import { commonConfig, startService } from "@stocklet/shared/service";
import { Admission } from "./admission.ts";
import { orderReactions } from "./reactions.ts";
import { orderRpc } from "./rpc.ts";
import { sagaTimeoutSweeper } from "./sweeper.ts";

if (import.meta.main) {
  const config = loadConfig({
    ...commonConfig("order"),
    /** An order still in flight after this long is rejected and compensated. */
    sagaTimeoutMs: int("ORDER_SAGA_TIMEOUT_MS", { default: 30_000, min: 1_000 }),
    sweepIntervalMs: int("ORDER_SWEEP_INTERVAL_MS", { default: 5_000, min: 100 }),
    /** New orders are refused (429) while this many are in flight; 0: never. */
    maxInFlight: int("ORDER_MAX_IN_FLIGHT", { default: 500, min: 0 }),
  });
  setupLogging("order");
  const sql = connectDb(config.databaseUrl);
  const admission = new Admission(sql, { maxInFlight: config.maxInFlight });
  await startService({
    name: "order",
    config,
    sql,
    bindings: [orderRpc(sql, admission)],
    reactions: orderReactions(),
    tasks: [
      admission.task(),
      sagaTimeoutSweeper(sql, {
        timeoutMs: config.sagaTimeoutMs,
        intervalMs: config.sweepIntervalMs,
      }),
    ],
  });
}
