/**
 * One consumer group member (kafkajs): subscribe, run, and stay a member. Offsets are committed
 * only for records whose outcome is final (their transaction committed, or they were
 * dead-lettered), at most once a second while busy and once more when idle, stopping, or told the
 * group is rebalancing — kafkajs' own auto-commit would send an OffsetCommit request after every
 * batch. Whatever a member applied but could not commit (it was killed) is delivered again to the
 * partition's next owner, and the inbox, shared by every member, skips it. A member that kafkajs gives
 * up on (a non-retriable error) is replaced by a fresh one after a pause: a consumer that stops
 * consuming would stall every saga.
 * @module
 */
import type { Consumer, EachBatchPayload, Kafka } from "kafkajs";
import { getLog } from "../logging.ts";

const log = getLog("consumer");

/** Options of {@linkcode startMember}. */
export interface MemberOptions {
  kafka: Kafka;
  group: string;
  topics: string[];
  /** Handles one partition's batch; returns when every record it resolved is final. */
  eachBatch(payload: EachBatchPayload): Promise<void>;
  /** Partitions processed at once: enough for every assigned partition of a fetch. @default 64 */
  concurrency?: number;
  /** Longest a fetch waits on the broker when there is nothing new. @default 500 */
  maxWaitMs?: number;
  /** How often resolved offsets are committed at most. @default 1000 */
  commitIntervalMs?: number;
}

/** A running member. */
export interface Member {
  /** Resolves once it joined its group (partitions assigned). */
  joined(): Promise<void>;
  /** Resolves while it is in its group; rejects saying why not. */
  healthy(): Promise<void>;
  /** Stops fetching, lets in-flight batches end, commits, leaves the group. */
  stop(): Promise<void>;
}

/** Whether kafkajs failed because the group is rebalancing (its own `isRebalancing`). */
function rebalancing(e: unknown): boolean {
  const type = (e as { type?: string } | undefined)?.type;
  return type === "REBALANCE_IN_PROGRESS" || type === "NOT_COORDINATOR_FOR_GROUP" ||
    type === "ILLEGAL_GENERATION";
}

/** Joins the group and starts consuming. */
export async function startMember(opts: MemberOptions): Promise<Member> {
  let stopping = false;
  let state: "joining" | "joined" | "crashed" = "joining";
  let joinedResolve!: () => void;
  const joined = new Promise<void>((r) => (joinedResolve = r));
  let consumer: Consumer | undefined;
  /** Commits what was resolved but not committed (the last batch's payload knows the group). */
  let flush: (() => Promise<void>) | undefined;
  let inFlight = 0;
  const commitIntervalMs = opts.commitIntervalMs ?? 1000;

  const start = async (): Promise<void> => {
    const c = opts.kafka.consumer({
      groupId: opts.group,
      sessionTimeout: 10_000,
      rebalanceTimeout: 20_000,
      heartbeatInterval: 1_000,
      maxWaitTimeInMs: opts.maxWaitMs ?? 500,
      allowAutoTopicCreation: false,
      retry: { initialRetryTime: 200, maxRetryTime: 3000, retries: 10 },
    });
    consumer = c;
    c.on(c.events.GROUP_JOIN, (e) => {
      log.debug("joined {group}", { group: opts.group, assignment: e.payload.memberAssignment });
      state = "joined";
      joinedResolve();
    });
    c.on(c.events.CRASH, (e) => {
      state = "crashed";
      log.error("consumer {group} crashed (kafkajs restarts it: {restart}): {error}", {
        group: opts.group,
        restart: e.payload.restart,
        error: e.payload.error,
      });
      if (!e.payload.restart && !stopping) {
        setTimeout(() => {
          if (stopping) return;
          c.disconnect().catch(() => {}).then(() => start()).catch((error) =>
            log.error("restarting consumer {group} failed: {error}", { group: opts.group, error })
          );
        }, 1000);
      }
    });
    await c.connect();
    await c.subscribe({ topics: opts.topics, fromBeginning: true });
    await c.run({
      partitionsConsumedConcurrently: opts.concurrency ?? 64,
      autoCommit: false,
      autoCommitInterval: commitIntervalMs,
      eachBatchAutoResolve: false,
      eachBatch: async (payload) => {
        if (stopping) return; // unresolved: the next owner gets it
        inFlight++;
        const commitPending = async () => {
          const pending = payload.uncommittedOffsets();
          if (pending.topics.length) await payload.commitOffsetsIfNecessary(pending);
        };
        try {
          flush = commitPending;
          await opts.eachBatch(payload);
          // At most once per interval while busy (kafkajs checks the time).
          if (!stopping) await payload.commitOffsetsIfNecessary();
        } catch (error) {
          // The group is rebalancing (a member joined or left; the heartbeat said so): commit what
          // this member applied while it still holds its partitions. kafkajs commits nothing
          // itself with auto-commit off and forgets resolved offsets when it rejoins, so the next
          // owner would apply them again (harmless, the inbox skips them, but wasted). Best
          // effort: a refused commit leaves them to be redelivered.
          if (rebalancing(error)) {
            await commitPending().catch((e) =>
              log.debug("commit before rejoining: {error}", { error: e })
            );
          }
          throw error;
        } finally {
          inFlight--;
        }
      },
    });
  };
  await start();

  // When the partitions go quiet, what the last batches resolved is still to be committed.
  const idleCommits = setInterval(() => {
    flush?.().catch((error) => log.debug("offset commit: {error}", { error }));
  }, commitIntervalMs);

  return {
    joined: () => joined,
    healthy: () =>
      state === "joined"
        ? Promise.resolve()
        : Promise.reject(new Error(`consumer group ${opts.group} ${state}`)),
    async stop() {
      stopping = true;
      clearInterval(idleCommits);
      // Batches in flight end soon (their retries stop at shutdown); their final outcomes are
      // committed while this member is still in the group, then it leaves.
      const deadline = Date.now() + 30_000;
      while (inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await flush?.().catch((error) => log.warn("final offset commit: {error}", { error }));
      await consumer?.disconnect().catch((e) => log.warn("disconnect: {error}", { error: e }));
    },
  };
}
