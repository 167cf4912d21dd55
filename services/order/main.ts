/**
 * The order service: places orders and follows each one through the place-order saga, rejecting
 * (with full compensation) any saga that stalls past its timeout.
 * @module
 */
import { int } from "@stocklet/shared/config";
import { runService } from "@stocklet/shared/service";
import { Admission } from "./admission.ts";
import { orderReactions } from "./reactions.ts";
import { orderRpc } from "./rpc.ts";
import { sagaTimeoutSweeper } from "./sweeper.ts";

if (import.meta.main) {
  await runService("order", {
    config: {
      /** An order still in flight after this long is rejected and compensated. */
      sagaTimeoutMs: int("ORDER_SAGA_TIMEOUT_MS", { default: 30_000, min: 1_000 }),
      sweepIntervalMs: int("ORDER_SWEEP_INTERVAL_MS", { default: 5_000, min: 100 }),
      /**
       * New orders are refused (429) while this many are in flight; 0: never. Twice what the
       * bench's peak keeps in flight (128). Lower holds less backlog under overload, but refuses
       * orders below the peak: at 160 a slow host's open loop at 150 and 180 orders/s was
       * refused 33 and 46 times (its sagas' latency swings past 1 s), and more in flight still
       * completes more (closed loop, same run: 181 and 195 orders/s with 256 in flight, 140 and
       * 186 with 128).
       */
      maxInFlight: int("ORDER_MAX_IN_FLIGHT", { default: 256, min: 0 }),
    },
    // One admission gate, shared by PlaceOrder and the loop that keeps its count fresh.
    prepare: (sql, config) =>
      Promise.resolve(new Admission(sql, { maxInFlight: config.maxInFlight })),
    bindings: (sql, _config, admission) => [orderRpc(sql, admission)],
    reactions: () => orderReactions(),
    tasks: (sql, config, admission) => [
      admission.task(),
      sagaTimeoutSweeper(sql, {
        timeoutMs: config.sagaTimeoutMs,
        intervalMs: config.sweepIntervalMs,
      }),
    ],
  });
}
