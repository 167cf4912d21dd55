/**
 * Watching a consumer group rebalance after one of its members was killed: the group is back once
 * it is Stable with the expected number of members, exactly one of them new (the restarted
 * replica) and none of them the killed one. kafkajs keeps a member's id when it rejoins, so the
 * survivors keep theirs; the killed member's id leaves the group when its session times out.
 * @module
 */
import type { Kafka } from "kafkajs";

/** A group as `describeGroups` tells it. */
export interface GroupState {
  state: string;
  members: string[];
}

/** The group's state and member ids, now. */
export async function groupState(kafka: Kafka, group: string): Promise<GroupState> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([group]);
    const g = groups[0];
    return { state: g?.state ?? "Dead", members: (g?.members ?? []).map((m) => m.memberId) };
  } finally {
    await admin.disconnect();
  }
}

/**
 * Whether a group is back after one member was replaced: Stable, `expected` members, all but one
 * of them there before the kill. Pure.
 *
 * @example
 * ```ts
 * rebalanced({ state: "Stable", members: ["a", "c"] }, ["a", "b"], 2); // true: b replaced by c
 * rebalanced({ state: "Stable", members: ["a", "b"] }, ["a", "b"], 2); // false: b not gone yet
 * ```
 */
export function rebalanced(now: GroupState, before: readonly string[], expected: number): boolean {
  if (now.state !== "Stable" || now.members.length !== expected) return false;
  const kept = now.members.filter((m) => before.includes(m)).length;
  return kept === Math.max(0, before.length - 1);
}

/**
 * Waits until {@linkcode rebalanced} holds; returns when it did (ms epoch), or undefined after
 * `timeoutMs`.
 */
export async function waitRebalanced(
  kafka: Kafka,
  group: string,
  before: readonly string[],
  expected: number,
  timeoutMs = 120_000,
): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const now = await groupState(kafka, group).catch(() => undefined);
    if (now && rebalanced(now, before, expected)) return Date.now();
    await new Promise((r) => setTimeout(r, 250));
  }
  return undefined;
}
