/**
 * A delivered Kafka record as the consumer kit sees it, and what it means: the event it carries
 * (decoded with its reaction's schema), or why it cannot be processed.
 * @module
 */
import { type DescMessage, fromBinary, type MessageShape } from "@bufbuild/protobuf";
import type { KafkaMessage } from "kafkajs";
import { isUuid } from "../ids.ts";
import type { EventMeta, Reaction } from "./reaction.ts";

/** A delivered record, as the runtime hands it over. */
export interface Delivery {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Uint8Array | null;
  /** Header values as UTF-8 strings (the first of repeated keys). */
  headers: Record<string, string>;
  /** The record's Kafka timestamp (ms): when Debezium read the outbox row from the WAL. */
  timestamp?: number;
  /** When this process received it (ms). */
  receivedAt?: number;
}

/**
 * A kafkajs message as a {@linkcode Delivery}: key and headers as UTF-8 text (the first value of a
 * repeated header), the value as bytes. kafkajs hands out Node Buffers; their toString() is UTF-8.
 */
export function deliveryOf(topic: string, partition: number, m: KafkaMessage): Delivery {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    const first = Array.isArray(v) ? v[0] : v;
    if (first === undefined || first === null) continue;
    headers[k] = typeof first === "string" ? first : first.toString("utf8");
  }
  return {
    topic,
    partition,
    offset: m.offset,
    key: m.key ? m.key.toString("utf8") : null,
    value: m.value ? new Uint8Array(m.value.buffer, m.value.byteOffset, m.value.byteLength) : null,
    headers,
    timestamp: Number(m.timestamp),
    receivedAt: Date.now(),
  };
}

/** The event metadata of a delivery whose `id` header is valid. */
export function metaOf(d: Delivery): EventMeta {
  const created = d.headers.created_at ? new Date(d.headers.created_at) : undefined;
  return {
    id: d.headers.id!,
    topic: d.topic,
    key: d.key ?? "",
    partition: d.partition,
    offset: d.offset,
    type: d.headers.type ?? "",
    ...(created && !Number.isNaN(created.getTime()) ? { createdAt: created } : {}),
  };
}

/** What a delivery turned out to be. */
export type Decoded =
  /** An event to apply with its reaction. */
  | { kind: "event"; reaction: Reaction; event: MessageShape<DescMessage>; meta: EventMeta }
  /** Nothing to do: no reaction for the topic, a tombstone, or filtered out. */
  | { kind: "ignored"; outcome: "skipped" | "filtered"; reason: string }
  /** It can never be processed: it goes to the dead-letter topic. */
  | { kind: "poison"; error: string };

/** A failure as one line for logs and dead-letter headers. */
export function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

/**
 * Decodes a delivery with its topic's reaction. Never throws: a record without a valid `id` header
 * (the dedupe key) or whose value its schema cannot decode is poison.
 */
export function decode(d: Delivery, reactions: ReadonlyMap<string, Reaction>): Decoded {
  const reaction = reactions.get(d.topic);
  if (!reaction) {
    return { kind: "ignored", outcome: "skipped", reason: `no reaction for ${d.topic}` };
  }
  if (d.value === null) return { kind: "ignored", outcome: "skipped", reason: "tombstone" };
  const id = d.headers.id;
  if (!id || !isUuid(id)) return { kind: "poison", error: "missing or invalid `id` header" };
  let event: MessageShape<DescMessage>;
  try {
    event = fromBinary(reaction.schema, d.value);
  } catch (err) {
    return { kind: "poison", error: `cannot decode ${reaction.schema.typeName}: ${describe(err)}` };
  }
  if (reaction.filter && !reaction.filter(event)) {
    return { kind: "ignored", outcome: "filtered", reason: "filtered" };
  }
  return { kind: "event", reaction, event, meta: metaOf(d) };
}
