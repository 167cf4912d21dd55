/**
 * The anatomy of a hop: for the events the services applied during a phase, where the time went
 * from the outbox row's commit to the commit of the transaction that applied it — the relay
 * reading the row from the WAL (Debezium's record timestamp − the row's `created_at`), the trip
 * to the consumer (Connect's send, the broker's append, the fetch), and applying it. Read from
 * each service's `GET /metrics` (`consumer.hops`), bracketed by two snapshots.
 * @module
 */
import type { ServiceName } from "@stocklet/shared/topology";
import { summarize, type Summary } from "./stats.ts";

/** One applied event's hop, as a service reports it. */
export interface Hop {
  topic: string;
  relayMs: number;
  deliverMs: number;
  applyMs: number;
}

/** A service's consumer counters at one moment. */
export interface HopSnapshot {
  applied: number;
  hops: Hop[];
}

/** Fetches every service's hops (services without a consumer or not answering are left out). */
export async function snapshotHops(
  services: readonly ServiceName[],
  urlOf: (svc: ServiceName) => string,
): Promise<Map<ServiceName, HopSnapshot>> {
  const out = new Map<ServiceName, HopSnapshot>();
  await Promise.all(services.map(async (svc) => {
    try {
      const res = await fetch(`${urlOf(svc)}/metrics`, { signal: AbortSignal.timeout(5000) });
      const body = await res.json() as { consumer: HopSnapshot | null };
      if (body.consumer) out.set(svc, { applied: body.consumer.applied, hops: body.consumer.hops });
    } catch { /* not answering: no numbers */ }
  }));
  return out;
}

/** The hops applied between two snapshots of one service (the last `applied` delta of them). */
export function hopsBetween(before: HopSnapshot | undefined, after: HopSnapshot): Hop[] {
  const delta = before && after.applied >= before.applied
    ? after.applied - before.applied
    : after.applied;
  return delta > 0 ? after.hops.slice(-Math.min(delta, after.hops.length)) : [];
}

/** One row of the anatomy: a consumer of a topic. */
export interface AnatomyRow {
  service: string;
  topic: string;
  relay: Summary;
  deliver: Summary;
  apply: Summary;
  total: Summary;
}

/** The anatomy of a phase, per consuming service and topic, and over every hop. */
export function anatomy(
  before: ReadonlyMap<ServiceName, HopSnapshot>,
  after: ReadonlyMap<ServiceName, HopSnapshot>,
): { rows: AnatomyRow[]; all: Omit<AnatomyRow, "service" | "topic"> } {
  const rows: AnatomyRow[] = [];
  const all: Hop[] = [];
  for (const [svc, a] of after) {
    const byTopic = new Map<string, Hop[]>();
    for (const h of hopsBetween(before.get(svc), a)) {
      byTopic.set(h.topic, [...(byTopic.get(h.topic) ?? []), h]);
      all.push(h);
    }
    for (const [topic, hs] of byTopic) rows.push({ service: svc, topic, ...summarizeHops(hs) });
  }
  rows.sort((x, y) => x.topic.localeCompare(y.topic) || x.service.localeCompare(y.service));
  return { rows, all: summarizeHops(all) };
}

function summarizeHops(hs: readonly Hop[]): Omit<AnatomyRow, "service" | "topic"> {
  return {
    relay: summarize(hs.map((h) => h.relayMs)),
    deliver: summarize(hs.map((h) => h.deliverMs)),
    apply: summarize(hs.map((h) => h.applyMs)),
    total: summarize(hs.map((h) => h.relayMs + h.deliverMs + h.applyMs)),
  };
}
