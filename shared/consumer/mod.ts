/**
 * Idempotent Kafka consumers: topic → decoder → reaction, applied a fetch at a time in one
 * transaction with inbox rows, retried, dead-lettered when hopeless. Read top-down: `runtime.ts`
 * (wiring) → `member.ts` (the group member) → `round.ts` (a fetch's batches together) →
 * `apply.ts` (the transaction and its fallback) → `delivery.ts`, `inbox.ts`, `retry.ts`,
 * `dead_letter.ts`, `stats.ts`.
 * @module
 */
export { type ConsumerOptions, type ConsumerRuntime, startConsumer } from "./runtime.ts";
export { type ConsumerStats } from "./stats.ts";
export { type Delivery, deliveryOf } from "./delivery.ts";
export { type ApplyDeps, applyRound, type Outcome } from "./apply.ts";
export { isTransient, RetryLater } from "./retry.ts";
export { purgeInbox } from "./inbox.ts";
export { connectorLag } from "./lag.ts";
export { on, type Reaction } from "./reaction.ts";
