/**
 * Dead letters: a message that can never be processed is written to its consumer group's
 * `<group>.dlq` topic, unchanged, with why in `dlq.*` headers, so that the partition moves on and a
 * human can look (and replay it once the cause is fixed).
 * @module
 */
import { Buffer } from "node:buffer";
import type { Message, Producer } from "kafkajs";
import type { Delivery } from "./delivery.ts";

/** The record written to the dead-letter topic for a delivery. */
export function deadLetterRecord(
  d: Delivery,
  group: string,
  error: string,
  attempts: number,
  at: Date = new Date(),
): Message {
  return {
    key: d.key,
    // kafkajs sizes records from Node Buffers; a bare Uint8Array is encoded wrongly.
    value: d.value ? Buffer.from(d.value.buffer, d.value.byteOffset, d.value.byteLength) : null,
    headers: {
      ...d.headers,
      "dlq.error": error.slice(0, 2000),
      "dlq.topic": d.topic,
      "dlq.partition": String(d.partition),
      "dlq.offset": d.offset,
      "dlq.consumer": group,
      "dlq.attempts": String(attempts),
      "dlq.at": at.toISOString(),
    },
  };
}

/** A function that dead-letters a delivery through a connected producer. */
export function deadLetterSender(
  producer: Producer,
  topic: string,
  group: string,
): (d: Delivery, error: string, attempts: number) => Promise<void> {
  return async (d, error, attempts) => {
    await producer.send({ topic, messages: [deadLetterRecord(d, group, error, attempts)] });
  };
}
