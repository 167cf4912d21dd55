/**
 * Repairing a relay whose replication slot PostgreSQL invalidated, on Kubernetes, where Strimzi
 * owns the connector (`KafkaConnector`): the same repair service-init makes locally
 * (`applyRelay` in scripts/service_init/relay.ts), through the connector's resource instead of
 * Connect's REST API, which Strimzi guards and would undo.
 *
 * 1. the connector is stopped (`spec.state: stopped`), and marked as under repair (an
 *    annotation, so a repair cut short is finished by the next run);
 * 2. once Connect reports it STOPPED, its offsets are reset (Strimzi's
 *    `strimzi.io/connector-offsets: reset`, which Strimzi removes once done): the stored WAL
 *    position belongs to the dead slot;
 * 3. the dead slot is dropped once its walsender let go;
 * 4. the connector runs again (`spec.state: running`): Debezium makes a new slot, streaming from
 *    now on;
 * 5. every row still in the relay's outboxes is published again (`republish`): the rows the lost
 *    slot never relayed are all there (the services purge only what the slot confirmed), and
 *    those relayed already are skipped by the consumers' inboxes;
 * 6. the mark is removed.
 *
 * @module
 */
import postgres from "postgres";
import type { RelaySpec } from "@stocklet/shared/topology";
import { dropSlotOnceFree, republish, waitSlotActive } from "@stocklet/scripts/service_init/relay";
import { kafkaConnectorPath, type KubeApi, type KubeObject } from "./kube_api.ts";

/** The annotation that marks a connector under repair (its value: when the repair began). */
export const REPAIR_ANNOTATION = "stocklet.io/relay-repair";
/** Strimzi's annotation that resets a stopped connector's offsets (Strimzi 0.44 and later). */
export const OFFSETS_ANNOTATION = "strimzi.io/connector-offsets";

/** What a run found and did. */
export type RepairOutcome = "healthy" | "repaired";

/** A relay's slot: streaming or waiting (`ok`), invalidated (`lost`) or not there (`missing`). */
export type SlotStatus = "ok" | "lost" | "missing";

/** The state of a replication slot. */
export async function slotStatus(dbUrl: string, slot: string): Promise<SlotStatus> {
  const sql = postgres(dbUrl, { max: 1, connect_timeout: 10, onnotice: () => {} });
  try {
    const [row] = await sql<{ wal_status: string | null }[]>`
      select wal_status from pg_replication_slots where slot_name = ${slot}`;
    return !row ? "missing" : row.wal_status === "lost" ? "lost" : "ok";
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Options of {@linkcode StrimziConnector}. */
export interface StrimziConnectorOptions {
  /** How often the resource is read while waiting (ms). @default 2000 */
  pollMs?: number;
  /** The longest wait for Strimzi (it also reconciles on a timer, every 2 minutes). @default 600000 */
  timeoutMs?: number;
}

/** A connector as its Strimzi `KafkaConnector` resource. */
export class StrimziConnector {
  readonly path: string;
  readonly #pollMs: number;
  readonly #timeoutMs: number;

  constructor(readonly api: KubeApi, readonly name: string, opts: StrimziConnectorOptions = {}) {
    this.path = kafkaConnectorPath(api.namespace, name);
    this.#pollMs = opts.pollMs ?? 2_000;
    this.#timeoutMs = opts.timeoutMs ?? 600_000;
  }

  /** The resource; throws when there is none. */
  async resource(): Promise<KubeObject> {
    const k = await this.api.get(this.path);
    if (!k) throw new Error(`KafkaConnector ${this.name} does not exist`);
    return k;
  }

  /** The connector's state as Connect last reported it to Strimzi (`RUNNING`, `STOPPED`, …). */
  static connectState(k: KubeObject): string | undefined {
    const status = k.status?.connectorStatus as { connector?: { state?: string } } | undefined;
    return status?.connector?.state;
  }

  /** When a repair began, if one is under way. */
  static repairMark(k: KubeObject): string | undefined {
    return k.metadata.annotations?.[REPAIR_ANNOTATION];
  }

  async #until(what: string, done: (k: KubeObject) => boolean): Promise<void> {
    const deadline = performance.now() + this.#timeoutMs;
    for (;;) {
      if (done(await this.resource())) return;
      if (performance.now() > deadline) {
        throw new Error(`KafkaConnector ${this.name}: ${what} after ${this.#timeoutMs / 1000} s`);
      }
      await new Promise((r) => setTimeout(r, this.#pollMs));
    }
  }

  /** Stops the connector, marked as under repair since `since`; waits until Connect says so. */
  async stop(since: string): Promise<void> {
    await this.api.mergePatch(this.path, {
      metadata: { annotations: { [REPAIR_ANNOTATION]: since } },
      spec: { state: "stopped" },
    });
    await this.#until(
      "not STOPPED",
      (k) => StrimziConnector.connectState(k) === "STOPPED",
    );
  }

  /** Resets the stopped connector's offsets; waits until Strimzi has (it removes the annotation). */
  async resetOffsets(): Promise<void> {
    await this.api.mergePatch(this.path, {
      metadata: { annotations: { [OFFSETS_ANNOTATION]: "reset" } },
    });
    await this.#until(
      "offsets not reset",
      (k) => k.metadata.annotations?.[OFFSETS_ANNOTATION] === undefined,
    );
  }

  /** Runs the connector again. */
  async resume(): Promise<void> {
    await this.api.mergePatch(this.path, { spec: { state: "running" } });
  }

  /** Removes the repair mark. */
  async finish(): Promise<void> {
    await this.api.mergePatch(this.path, {
      metadata: { annotations: { [REPAIR_ANNOTATION]: null } },
    });
  }
}

/** Options of {@linkcode repairRelay}. */
export interface RepairOptions {
  /** The relay's database, as a superuser (drops the slot, re-inserts outbox rows). */
  dbUrl: string;
  relay: RelaySpec;
  connector: StrimziConnector;
  say: (line: string) => void;
  /** The longest wait for the new slot to stream (ms). @default 600000 */
  timeoutMs?: number;
}

/**
 * Repairs the relay if its slot was lost, or finishes a repair a previous run began; otherwise
 * does nothing. Every step can be run again, so a run cut short anywhere is finished by the next.
 */
export async function repairRelay(opts: RepairOptions): Promise<RepairOutcome> {
  const { dbUrl, relay, connector, say } = opts;
  const mark = StrimziConnector.repairMark(await connector.resource());
  const slot = await slotStatus(dbUrl, relay.slot);
  if (!mark && slot !== "lost") return "healthy";
  if (slot !== "ok") {
    // Lost; or missing because a run that began the repair dropped it.
    say(
      mark
        ? `finishing the repair begun at ${mark}`
        : `slot ${relay.slot} was invalidated (its WAL is gone): repairing ${relay.name}`,
    );
    await connector.stop(mark ?? new Date().toISOString());
    say(`${relay.name} stopped; resetting its offsets`);
    await connector.resetOffsets();
    await dropSlotOnceFree(dbUrl, relay.slot);
    say(`slot ${relay.slot} dropped; running ${relay.name} again`);
  }
  await connector.resume();
  await waitSlotActive(dbUrl, relay.slot, opts.timeoutMs ?? 600_000);
  await republish(dbUrl, relay);
  await connector.finish();
  say(`${relay.name} streams from a new slot; every row still in its outboxes was published again`);
  return "repaired";
}
