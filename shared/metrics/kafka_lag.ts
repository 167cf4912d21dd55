/**
 * `stocklet.consumer.lag` ({message}): per topic-partition a consumer group subscribes to, the end
 * offset minus the group's committed offset, which is how far behind the group is, including when
 * it is stuck (a gauge fed from fetch responses would freeze when nothing arrives). Read through
 * the admin API (the group's offsets, then each topic's end offsets) at export time, at most once
 * per {@linkcode gaugeRefreshMs} (two or three small requests every few seconds per service), and
 * only when metrics are on.
 * @module
 */
import type { Admin } from "kafkajs";
import { kafkaClient } from "../kafka.ts";
import { getLog } from "../logging.ts";
import { gaugeRefreshMs, meter, metricsEnabled, Refreshed } from "./meter.ts";

const log = getLog("metrics");

const lagGauge = meter.createObservableGauge("stocklet.consumer.lag", {
  description: "Messages a consumer group has not committed yet, per topic-partition",
  unit: "{message}",
});

/** One partition's lag. */
export interface PartitionLag {
  topic: string;
  partition: number;
  /** The partition's end offset (the next record's). */
  end: number;
  /** The group's committed offset (the next record it will read); -1: none committed. */
  committed: number;
  /** end − committed (from the partition's first record when nothing was committed). */
  lag: number;
}

/**
 * The lag of each partition, from committed and end offsets as the admin API reports them.
 *
 * @example
 * ```ts
 * lagOf([{ topic: "t", partitions: [{ partition: 0, offset: "7" }] }],
 *   new Map([["t", [{ partition: 0, high: "10", low: "0" }]]]));
 * // → [{ topic: "t", partition: 0, end: 10, committed: 7, lag: 3 }]
 * ```
 */
export function lagOf(
  committed: ReadonlyArray<
    { topic: string; partitions: ReadonlyArray<{ partition: number; offset: string }> }
  >,
  ends: ReadonlyMap<string, ReadonlyArray<{ partition: number; high: string; low: string }>>,
): PartitionLag[] {
  const out: PartitionLag[] = [];
  for (const [topic, partitions] of ends) {
    const mine = committed.find((c) => c.topic === topic)?.partitions ?? [];
    for (const p of partitions) {
      const end = Number(p.high);
      const c = Number(mine.find((m) => m.partition === p.partition)?.offset ?? -1);
      const from = c >= 0 ? c : Number(p.low);
      out.push({ topic, partition: p.partition, end, committed: c, lag: Math.max(0, end - from) });
    }
  }
  return out;
}

/** Reads one group's lag through an admin client (connected on first use). */
export class LagReader {
  #admin: Admin | undefined;

  constructor(
    readonly brokers: string[],
    readonly group: string,
    readonly topics: readonly string[],
  ) {}

  /** Every subscribed partition's lag, now. */
  async read(): Promise<PartitionLag[]> {
    if (!this.#admin) {
      const admin = kafkaClient(`${this.group}-lag`, this.brokers).admin();
      await admin.connect();
      this.#admin = admin;
    }
    const admin = this.#admin;
    const committed = await admin.fetchOffsets({ groupId: this.group, topics: [...this.topics] });
    const ends = new Map(
      await Promise.all(
        this.topics.map(async (t) => [t, await admin.fetchTopicOffsets(t)] as const),
      ),
    );
    return lagOf(committed, ends);
  }

  async close(): Promise<void> {
    await this.#admin?.disconnect().catch(() => {});
    this.#admin = undefined;
  }
}

/**
 * Reports a consumer group's lag through `stocklet.consumer.lag` until stopped.
 * @returns A function that stops it.
 */
export function watchConsumerLag(
  opts: { brokers: string[]; group: string; topics: readonly string[] },
): () => Promise<void> {
  if (!metricsEnabled()) return () => Promise.resolve();
  const reader = new LagReader(opts.brokers, opts.group, opts.topics);
  let warned = false;
  const lags = new Refreshed(() => reader.read(), gaugeRefreshMs, (error) => {
    if (!warned) log.warn("cannot read consumer lag of {group}: {error}", { ...opts, error });
    warned = true;
  });
  const base = { "messaging.system": "kafka", "messaging.consumer.group.name": opts.group };
  const callback = (r: { observe(v: number, a: Record<string, string>): void }) => {
    for (const p of lags.read() ?? []) {
      r.observe(p.lag, {
        ...base,
        "messaging.destination.name": p.topic,
        "messaging.destination.partition.id": String(p.partition),
      });
    }
  };
  lagGauge.addCallback(callback);
  return async () => {
    lagGauge.removeCallback(callback);
    await reader.close();
  };
}
