/**
 * The order service: places orders and follows each one through the place-order saga, rejecting
 * (with full compensation) any saga that stalls past its timeout.
 * @module
 */
import { int } from "@stocklet/shared/config";
import { runService } from "@stocklet/shared/service";
import { orderReactions } from "./reactions.ts";
import { orderRpc } from "./rpc.ts";
import { sagaTimeoutSweeper } from "./sweeper.ts";

if (import.meta.main) {
  await runService("order", {
    config: {
      /** An order still in flight after this long is rejected and compensated. */
      sagaTimeoutMs: int("ORDER_SAGA_TIMEOUT_MS", { default: 30_000, min: 1_000 }),
      sweepIntervalMs: int("ORDER_SWEEP_INTERVAL_MS", { default: 5_000, min: 100 }),
    },
    bindings: (sql) => [orderRpc(sql)],
    reactions: () => orderReactions(),
    tasks: (sql, config) => [
      sagaTimeoutSweeper(sql, {
        timeoutMs: config.sagaTimeoutMs,
        intervalMs: config.sweepIntervalMs,
      }),
    ],
  });
}
