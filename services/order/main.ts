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
       * New orders are refused (429) while this many are in flight; 0: never. A quarter above
       * what the bench's peak keeps in flight (128), which this machine's throughput needs (64
       * in flight give about a fifth less): a closed loop of 128 is never refused at 160, while
       * at 128 the read's few milliseconds of lag refused 24 of its orders in 20 s. More adds
       * waiting and memory, not throughput: at twice the peak offered, 256 completed 88 % of the
       * peak, 160 103 % and 128 113 % (short runs), with p50 1.6 s at 256 against 0.7 s.
       */
      maxInFlight: int("ORDER_MAX_IN_FLIGHT", { default: 160, min: 0 }),
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
