/**
 * Stocklet's metrics through `@opentelemetry/api` (exported by Deno's built-in OpenTelemetry):
 * RED of every RPC (`rpc.ts`), consumers (`consumer.ts`, `kafka_lag.ts`), the outbox (`outbox.ts`),
 * the process and its database pool (`process.ts`); the saga's own live in the order service. Names
 * and units follow the OpenTelemetry semantic conventions where they define one, `stocklet.*`
 * otherwise. `meter.ts` says how to turn them off.
 * @module
 */
export {
  gaugeRefreshMs,
  LATENCY_BUCKETS,
  meter,
  metricsEnabled,
  Refreshed,
  REQUEST_BUCKETS,
  SummedCounter,
} from "./meter.ts";
export { codeName, isServerError, recordRpc, rpcAttributes } from "./rpc.ts";
export { ConsumerMeter, type HopTimes, type OutcomeName } from "./consumer.ts";
export { lagOf, LagReader, type PartitionLag, watchConsumerLag } from "./kafka_lag.ts";
export { type OutboxBacklog, outboxBacklog, watchOutbox } from "./outbox.ts";
export { poolUsage, recordPoolWait, watchProcess } from "./process.ts";
