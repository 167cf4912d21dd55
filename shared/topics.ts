/**
 * The topic catalogue, read from the `(stocklet.events.v1.topics)` option on each event message, so
 * that proto/ is the one place a topic is named.
 * @module
 */
import { type DescMessage, getOption } from "@bufbuild/protobuf";
import * as events from "./events.ts";
import { topics as topicsOption } from "./gen/stocklet/events/v1/options_pb.ts";

/** Every event message schema of package `stocklet.events.v1`. */
export const EVENT_SCHEMAS: readonly DescMessage[] = (Object.values(events) as unknown[]).filter(
  (v): v is DescMessage =>
    typeof v === "object" && v !== null && (v as { kind?: unknown }).kind === "message",
);

/** Topic name → the event message published on it. */
export const TOPICS: ReadonlyMap<string, DescMessage> = new Map(
  EVENT_SCHEMAS.flatMap((schema) => getOption(schema, topicsOption).map((t) => [t, schema])),
);

/** The service that produces a topic: its first segment (`order.state.created` → `order`). */
export function producerOf(topic: string): string {
  return topic.slice(0, topic.indexOf("."));
}

/** The topics a service produces, sorted. */
export function topicsProducedBy(service: string): string[] {
  return [...TOPICS.keys()].filter((t) => producerOf(t) === service).sort();
}

/** The schema of a topic's events; throws for an unknown topic. */
export function schemaOf(topic: string): DescMessage {
  const schema = TOPICS.get(topic);
  if (!schema) throw new Error(`unknown topic ${topic}`);
  return schema;
}
