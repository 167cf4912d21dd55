/**
 * The test infrastructure (Postgres, Kafka, Kafka Connect with Debezium on the test ports), brought
 * up once per test process and left running for the next file.
 * @module
 */
import { ensureInfra, type InfraHandle } from "@stocklet/scripts/infra";

export type { InfraHandle };

let handle: Promise<InfraHandle> | undefined;

/**
 * The `test` profile's infrastructure, started if needed (once per process).
 *
 * @example
 * ```ts
 * const infra = await testInfra();
 * const sql = postgres(infra.pgUrl("postgres"));
 * ```
 */
export function testInfra(): Promise<InfraHandle> {
  return handle ??= ensureInfra("test");
}
