/**
 * Watches `order.state.approved` and `order.state.rejected` with a throwaway kafkajs consumer group
 * that starts at the topics' current end. Each event's key is the order id, and its `created_at`
 * header is the commit time of the order's terminal transition (Debezium copies it from the outbox
 * row, written in the same transaction): joined with the moment the bench sent the place request,
 * that gives place → terminal latency exactly, with no polling, whatever the consumer's own delay.
 * The time the bench saw the event gives one more outbox hop (commit → an idle consumer).
 * @module
 */
import { fromBinary } from "@bufbuild/protobuf";
import { type Consumer, type IHeaders, Kafka, logLevel } from "kafkajs";
import { parseTimestamp } from "@stocklet/shared/consumer/lag";
import { events } from "@stocklet/shared/proto";

/** The outcome of one order, as its terminal event tells. */
export interface TerminalEvent {
  orderId: string;
  status: "APPROVED" | "REJECTED";
  /** For a rejection: the reason's enum name (e.g. `INSUFFICIENT_STOCK`). */
  reason?: string;
  /** The outbox commit time (epoch ms, from the `created_at` header). */
  committedAt: number;
  /** When the bench received it (epoch ms). */
  seenAt: number;
  /** The event id (the `id` header). */
  eventId: string;
}

/** The terminal topics. */
export const TERMINAL_TOPICS = ["order.state.approved", "order.state.rejected"] as const;

function header(h: IHeaders | undefined, name: string): string | undefined {
  const v = h?.[name];
  const first = Array.isArray(v) ? v[0] : v;
  if (first === undefined || first === null) return undefined;
  return typeof first === "string" ? first : first.toString("utf8");
}

/** Decodes a terminal record into an event (undefined when it lacks a key). Pure. */
export function terminalOf(
  topic: string,
  key: string | null,
  value: Uint8Array | null,
  headers: Record<string, string | undefined>,
  seenAt: number,
): TerminalEvent | undefined {
  if (!key) return undefined;
  const committedAt = parseTimestamp(headers.created_at ?? "") ?? seenAt;
  const e: TerminalEvent = {
    orderId: key,
    status: topic === "order.state.approved" ? "APPROVED" : "REJECTED",
    committedAt,
    seenAt,
    eventId: headers.id ?? "",
  };
  if (e.status === "REJECTED" && value) {
    try {
      const r = fromBinary(events.OrderRejectedEventSchema, value);
      e.reason = events.OrderRejectedEvent_Reason[r.reason] ?? String(r.reason);
    } catch {
      e.reason = "UNDECODABLE";
    }
  }
  return e;
}

/** A running watcher. */
export class TerminalWatcher {
  /** Order id → its first terminal event. */
  readonly byOrder: Map<string, TerminalEvent> = new Map();
  /** Every terminal event seen, in arrival order (redeliveries included). */
  readonly all: TerminalEvent[] = [];
  #consumer: Consumer;
  #kafka: Kafka;
  #group: string;

  private constructor(kafka: Kafka, consumer: Consumer, group: string) {
    this.#kafka = kafka;
    this.#consumer = consumer;
    this.#group = group;
  }

  /** Starts watching from the topics' current end; resolves once positioned. */
  static async start(brokers: string[]): Promise<TerminalWatcher> {
    const kafka = new Kafka({ clientId: "stocklet-bench", brokers, logLevel: logLevel.NOTHING });
    const group = `stocklet-bench-${crypto.randomUUID()}`;
    const admin = kafka.admin();
    await admin.connect();
    try {
      // Committing the current ends before joining makes the start point exact (no "latest" race).
      for (const topic of TERMINAL_TOPICS) {
        const ends = await admin.fetchTopicOffsets(topic);
        await admin.setOffsets({
          groupId: group,
          topic,
          partitions: ends.map((p) => ({ partition: p.partition, offset: p.high })),
        });
      }
    } finally {
      await admin.disconnect();
    }
    const consumer = kafka.consumer({
      groupId: group,
      maxWaitTimeInMs: 100,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      retry: { retries: 1_000, initialRetryTime: 300, maxRetryTime: 3_000 },
    });
    const w = new TerminalWatcher(kafka, consumer, group);
    let joined!: () => void;
    const joinedP = new Promise<void>((r) => (joined = r));
    consumer.on(consumer.events.GROUP_JOIN, () => joined());
    await consumer.connect();
    await consumer.subscribe({ topics: [...TERMINAL_TOPICS], fromBeginning: false });
    await consumer.run({
      autoCommit: true,
      eachMessage: ({ topic, message }) => {
        const seenAt = Date.now();
        const headers: Record<string, string | undefined> = {
          id: header(message.headers, "id"),
          created_at: header(message.headers, "created_at"),
        };
        const value = message.value
          ? new Uint8Array(message.value.buffer, message.value.byteOffset, message.value.length)
          : null;
        const e = terminalOf(topic, message.key?.toString("utf8") ?? null, value, headers, seenAt);
        if (e) {
          w.all.push(e);
          if (!w.byOrder.has(e.orderId)) w.byOrder.set(e.orderId, e);
        }
        return Promise.resolve();
      },
    });
    await joinedP;
    return w;
  }

  /** Stops the consumer and deletes its throwaway group. */
  async stop(): Promise<void> {
    await this.#consumer.disconnect().catch(() => {});
    const admin = this.#kafka.admin();
    try {
      await admin.connect();
      await admin.deleteGroups([this.#group]).catch(() => {});
    } catch {
      /* best effort */
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }
}
