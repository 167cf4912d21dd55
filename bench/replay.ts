/**
 * The replay check: every consuming service (each of its replicas) is stopped, its consumer group
 * rewound to the earliest offset of every topic it reads (deleted: its members subscribe from the
 * beginning), and started again, so the whole history of events is delivered a second time; once
 * the groups caught up, every database must be exactly as before (`@stocklet/testing/state`
 * fingerprint).
 * @module
 */
import type { Kafka } from "kafkajs";
import { consumerGroupOf, type ServiceName } from "@stocklet/shared/topology";
import type { InfraHandle } from "@stocklet/scripts/infra";
import { stopApp } from "@stocklet/scripts/stack/apps";
import { replicasOf } from "@stocklet/scripts/stack/config";
import { restartTestApp } from "@stocklet/scripts/stack";
import { waitCaughtUp } from "@stocklet/testing/kafka";
import { fingerprint, notificationsSettled, type StateFingerprint } from "@stocklet/testing/state";
import { sleep } from "./load.ts";

/** One table whose fingerprint changed. */
export interface TableDiff {
  database: string;
  table: string;
  before: string;
  after: string;
}

/** The outcome of a replay. */
export interface ReplayResult {
  ok: boolean;
  /** Records delivered again (sum over groups and their topics). */
  records: number;
  groups: string[];
  tables: number;
  diffs: TableDiff[];
  tookMs: number;
}

/** The tables whose `count:md5` differ between two fingerprints. Pure. */
export function diffFingerprints(a: StateFingerprint, b: StateFingerprint): TableDiff[] {
  const out: TableDiff[] = [];
  for (const database of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const ta = a[database] ?? {};
    const tb = b[database] ?? {};
    for (const table of new Set([...Object.keys(ta), ...Object.keys(tb)])) {
      const before = ta[table] ?? "(missing)";
      const after = tb[table] ?? "(missing)";
      if (before !== after) out.push({ database, table, before, after });
    }
  }
  return out;
}

/** How many tables a fingerprint covers. */
export function tableCount(f: StateFingerprint): number {
  return Object.values(f).reduce((n, t) => n + Object.keys(t).length, 0);
}

/**
 * Rewinds groups to the start of every topic they read: they are deleted (every member stopped),
 * and their consumers, which subscribe from the beginning, read each topic from its earliest
 * offset when they start again. One request for every group, where kafkajs' `resetOffsets` joins
 * a group once per topic (seconds each). Returns how many records the groups will read again.
 */
async function rewind(
  kafka: Kafka,
  groups: readonly string[],
  log: (line: string) => void,
): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    let records = 0;
    for (const groupId of groups) {
      for (const { topic } of await admin.fetchOffsets({ groupId })) {
        for (const p of await admin.fetchTopicOffsets(topic)) {
          records += Number(p.high) - Number(p.low);
        }
      }
    }
    let left = [...groups];
    const deadline = Date.now() + 60_000;
    while (left.length) {
      try {
        await admin.deleteGroups(left);
        break;
      } catch (e) {
        // A member that was killed lingers until its session times out: that group waits.
        const failed = ((e as { groups?: Array<{ groupId: string; error?: { type?: string } }> })
          .groups ?? []).filter((g) => g.error && g.error.type !== "GROUP_ID_NOT_FOUND");
        if (!failed.length) break;
        if (Date.now() > deadline) throw e;
        left = failed.map((g) => g.groupId);
        log(`replay: ${left.join(", ")} still have members (${failed[0]!.error?.type}); retrying`);
        await sleep(1000);
      }
    }
    return records;
  } finally {
    await admin.disconnect();
  }
}

/** Options of {@linkcode replayCheck}. */
export interface ReplayOptions {
  kafka: Kafka;
  infra: InfraHandle;
  serviceDbUrl: (service: string) => string;
  services: readonly ServiceName[];
  log: (line: string) => void;
}

/**
 * Waits for the notification sender to finish what it has to send (it works after the consumer's
 * transaction, so its rows still move once the groups caught up), when it is one of the services.
 */
async function settled(o: ReplayOptions): Promise<void> {
  if (!o.services.includes("notification")) return;
  const left = await notificationsSettled(o.serviceDbUrl);
  if (left) o.log(`replay: ${left} emails still pending after 2 minutes; fingerprinting anyway`);
}

/** Stops the services, rewinds their groups, restarts them and compares the databases. */
export async function replayCheck(o: ReplayOptions): Promise<ReplayResult> {
  const t0 = Date.now();
  const groups = o.services.map(consumerGroupOf);
  o.log("replay: waiting for every group to catch up…");
  await waitCaughtUp(o.kafka, groups, 300_000);
  await sleep(2000);
  await waitCaughtUp(o.kafka, groups, 300_000);
  await settled(o);
  const before = await fingerprint(o.serviceDbUrl);
  o.log(`replay: fingerprinted ${tableCount(before)} tables; stopping ${o.services.join(", ")}…`);
  // Every replica: a group is rewound only once it has no member left.
  const apps = o.services.flatMap(replicasOf);
  await Promise.all(apps.map((app) => stopApp("test", app)));
  o.log(`replay: stopped in ${((Date.now() - t0) / 1000).toFixed(1)} s; rewinding…`);
  let records = 0;
  try {
    records = await rewind(o.kafka, groups, o.log);
    o.log(`replay: rewound ${groups.length} groups (${records} records); restarting…`);
  } finally {
    // Side by side: each waits for its own readiness (its group joined).
    await Promise.all(apps.map((app) => restartTestApp(app, o.infra)));
  }
  await waitCaughtUp(o.kafka, groups, 900_000);
  await sleep(3000);
  await waitCaughtUp(o.kafka, groups, 300_000);
  await settled(o);
  const after = await fingerprint(o.serviceDbUrl);
  const diffs = diffFingerprints(before, after);
  return {
    ok: diffs.length === 0,
    records,
    groups,
    tables: tableCount(after),
    diffs,
    tookMs: Date.now() - t0,
  };
}
