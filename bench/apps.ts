/**
 * Which apps the bench measures. `core` is the work the Go original does — the seven services of
 * the place-order saga and the edge — so that every comparison is like with like; `all` is the
 * system as shipped, with the web front (its read model consumes every saga event) and the
 * notification service (an email per order state, through the local mail catcher).
 * @module
 */
import { Kafka, logLevel } from "kafkajs";
import { consumerGroupOf } from "@stocklet/shared/topology";
import { appPid } from "@stocklet/scripts/stack/apps";
import type { BaseApp } from "@stocklet/scripts/stack/config";
import { stopApp } from "@stocklet/scripts/stack/apps";

/** The bench's app sets. */
export type AppSet = "core" | "all";

/** What `core` leaves out: the work the Go original does not do. */
export const BEYOND_CORE: readonly BaseApp[] = ["web", "notification", "mail"];

/** Parses `--apps`. */
export function parseAppSet(raw: string): AppSet {
  if (raw === "core" || raw === "all") return raw;
  throw new Error(`--apps ${raw}: expected core (the Go original's work) or all (as shipped)`);
}

/**
 * Leaves the apps beyond the core out of the test stack (`STOCKLET_WITHOUT`, read by
 * `stackApps`) and stops those still running from an earlier run.
 *
 * @returns The apps left out.
 */
export async function leaveOutBeyondCore(log: (line: string) => void): Promise<BaseApp[]> {
  const already = (Deno.env.get("STOCKLET_WITHOUT") ?? "").split(",").filter(Boolean);
  Deno.env.set("STOCKLET_WITHOUT", [...new Set([...already, ...BEYOND_CORE])].join(","));
  for (const app of BEYOND_CORE) {
    if (appPid("test", app) !== undefined) {
      log(`apps: stopping ${app} (not part of the Go original's work)`);
      await stopApp("test", app);
    }
  }
  return [...BEYOND_CORE];
}

/**
 * Moves the notification service's consumer group past everything the bench published: nobody
 * should be emailed about the bench's orders when the service starts again.
 *
 * @returns The topics whose offsets moved.
 */
export async function skipBenchNotifications(brokers: string[]): Promise<string[]> {
  const admin = new Kafka({
    clientId: "stocklet-bench-apps",
    brokers,
    logLevel: logLevel.NOTHING,
  }).admin();
  const groupId = consumerGroupOf("notification");
  try {
    await admin.connect();
    const topics = (await admin.fetchOffsets({ groupId })).map((t) => t.topic);
    for (const topic of topics) await admin.resetOffsets({ groupId, topic, earliest: false });
    return topics;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
