/**
 * Idempotent Kafka consumers: topic → decoder → reaction, in one transaction with an inbox row.
 * @module
 */
export {
  type ConsumerOptions,
  type ConsumerRuntime,
  type ConsumerStats,
  deliveryOf,
  startConsumer,
} from "./runtime.ts";
export {
  type Delivery,
  isTransient,
  type Outcome,
  processDelivery,
  RetryLater,
} from "./process.ts";
export { connectorLag } from "./lag.ts";
