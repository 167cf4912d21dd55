/**
 * Kafka consumer clients compared: the CPU that `kafkajs` 2.2.4 (driven as our consumer kit drives
 * it, `shared/consumer/member.ts`) and `@platformatic/kafka` spend per consumed record under a
 * workload shaped like the saga's, and what each costs the broker.
 *
 * The workload: `--groups` consumer groups in one consumer process, each subscribed to
 * `--topics-per-group` single-partition topics of its own; a producer process (kafkajs for both
 * clients, so only the consumer differs) writes `--size`-byte records to every topic at `--rates`
 * records/s per topic, a send every 10 ms (one record or a few per fetch). Each record's value
 * starts with its produce time, so the consumer measures end-to-end latency (produce call →
 * delivered to the handler). The handler does nothing else (no decoding, no database): what is
 * left is the client's own cost.
 *
 * Both consumers fetch again right after handling a fetch, wait at most 500 ms on the broker with
 * `minBytes` 1, and commit the handled offsets at most once a second while busy plus once a second
 * when idle (never per batch); session 10 s, rebalance 20 s, heartbeat 1 s, and each group starts
 * from the earliest offset (fresh topics per run, the kit's `fromBeginning: true`). kafkajs runs
 * with the kit's timer fix (`shared/kafkajs_timer_fix.ts`).
 *
 * Each run creates fresh `kc-bench.*` topics, starts the consumer process, waits until every
 * group joined, starts the producer, warms up `--warmup` s, then measures for `--seconds` s:
 * CPU of the consumer process, of the broker JVM (the process listening on the broker's port,
 * or `--broker-pid`) and of the producer (a control: it is the same in every run), all from
 * `/proc/<pid>/stat`; the records consumed; latency p50/p99. Then it stops both processes and
 * deletes the run's topics and groups. For each rate the clients alternate (A B A B, `--runs`
 * rounds), since a shared machine's speed drifts; a markdown table of every run is printed.
 *
 * Run (needs the dev infrastructure: `deno task infra up`; about 45 s per run, 12 runs by default):
 *
 *   deno run -A bench/kafka_clients.ts [--brokers 127.0.0.1:39092] [--rates 60,150,300]
 *     [--groups 3] [--topics-per-group 3] [--size 300] [--seconds 30] [--warmup 5] [--runs 2]
 *     [--clients kafkajs,platformatic] [--broker-pid PID]
 *
 * The same file runs the consumer and producer processes (`--role consumer|producer`, internal).
 * Linux only (`/proc`).
 * @module
 */
import { Buffer } from "node:buffer";
import { kafkaClient } from "@stocklet/shared/kafka";
import { type EachBatchPayload, type Kafka, Partitioners } from "kafkajs";
import {
  type CommitOptionsPartition,
  Consumer as PlatformaticConsumer,
  type Message as PlatformaticMessage,
  // Measured, not adopted (README, "Kafka client"): pinned here, not in the workspace's imports.
  // deno-lint-ignore no-import-prefix
} from "npm:@platformatic/kafka@2.12.1";
import { cpuSeconds } from "./rss.ts";
import { percentile } from "./stats.ts";

/** The consumer clients compared. */
const CLIENTS = ["kafkajs", "platformatic"] as const;
type Client = typeof CLIENTS[number];

/** Prefix of every topic and group this bench creates. */
const PREFIX = "kc-bench.";
/** Marks the lines of the parent ↔ child protocol on a child's stdout (a library may print too). */
const TAG = "@@kc ";
/** How often handled offsets are committed at most (the kit's `commitIntervalMs`). */
const COMMIT_INTERVAL_MS = 1000;
/** Longest a fetch waits on the broker (the kit's `maxWaitMs`). */
const MAX_WAIT_MS = 500;
/** The producer's send interval. */
const TICK_MS = 10;

// ---------------------------------------------------------------------------------------------
// Shared helpers

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes. */
function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** CPU seconds the whole machine was busy so far (every core; /proc/stat less idle and iowait). */
function machineBusySeconds(): number {
  const line = Deno.readTextFileSync("/proc/stat").split("\n")[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0); // user … steal (guest is in user)
  return (total - v[3]! - v[4]!) / 100;
}

/** The pid of the process listening on a local TCP port (the broker), from /proc. */
function listenerPid(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = Deno.readTextFileSync(file);
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const c = line.trim().split(/\s+/);
      if (c.length < 10 || c[3] !== "0A") continue; // LISTEN
      if (parseInt(c[1]!.split(":")[1]!, 16) === port) inodes.add(c[9]!);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      for (const fd of Deno.readDirSync(`/proc/${e.name}/fd`)) {
        const link = Deno.readLinkSync(`/proc/${e.name}/fd/${fd.name}`);
        const m = /^socket:\[(\d+)\]$/.exec(link);
        if (m && inodes.has(m[1]!)) return Number(e.name);
      }
    } catch {
      // gone, or not ours to read
    }
  }
  return undefined;
}

/** Writes one protocol line to stdout. */
function say(msg: Record<string, unknown>): void {
  Deno.stdout.writeSync(new TextEncoder().encode(TAG + JSON.stringify(msg) + "\n"));
}

/** Lines read from a stream (a child's stdout, our stdin). */
async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buf = "";
  for await (const chunk of stream) {
    buf += decoder.decode(chunk, { stream: true });
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      yield buf.slice(0, i);
      buf = buf.slice(i + 1);
    }
  }
  if (buf) yield buf;
}

// ---------------------------------------------------------------------------------------------
// The consumer process

interface GroupSpec {
  group: string;
  topics: string[];
}

/** What a consumer process keeps between two marks. */
class Tally {
  consumed = 0;
  /** Fetch responses handled and OffsetCommit requests sent. */
  fetches = 0;
  commits = 0;
  #lat = new Float64Array(1 << 16);
  #n = 0;
  /** Counts a record whose value starts with its produce time. */
  record(value: Uint8Array | null | undefined, at: number): void {
    this.consumed++;
    if (!value || value.byteLength < 8) return;
    const sent = new DataView(value.buffer, value.byteOffset, 8).getFloat64(0, true);
    if (this.#n === this.#lat.length) {
      const bigger = new Float64Array(this.#lat.length * 2);
      bigger.set(this.#lat);
      this.#lat = bigger;
    }
    this.#lat[this.#n++] = at - sent;
  }
  /** The count so far and the latencies since the last mark (then forgotten). */
  mark(): Record<string, number> {
    const s = this.#lat.slice(0, this.#n).sort();
    this.#n = 0;
    return {
      consumed: this.consumed,
      fetches: this.fetches,
      commits: this.commits,
      samples: s.length,
      p50: percentile([...s], 50),
      p99: percentile([...s], 99),
    };
  }
}

/** A running group of either client. */
interface RunningGroup {
  joined: Promise<void>;
  stop(): Promise<void>;
}

/** One kafkajs group member, configured and driven exactly as shared/consumer/member.ts does. */
async function kafkajsGroup(kafka: Kafka, spec: GroupSpec, tally: Tally): Promise<RunningGroup> {
  let joinedResolve!: () => void;
  const joined = new Promise<void>((r) => (joinedResolve = r));
  let stopping = false;
  let flush: (() => Promise<void>) | undefined;
  const c = kafka.consumer({
    groupId: spec.group,
    sessionTimeout: 10_000,
    rebalanceTimeout: 20_000,
    heartbeatInterval: 1_000,
    maxWaitTimeInMs: MAX_WAIT_MS,
    allowAutoTopicCreation: false,
    retry: { initialRetryTime: 200, maxRetryTime: 3000, retries: 10 },
  }); // minBytes: kafkajs' default, 1
  c.on(c.events.GROUP_JOIN, () => joinedResolve());
  c.on(c.events.FETCH, () => tally.fetches++);
  c.on(c.events.COMMIT_OFFSETS, () => tally.commits++);
  c.on(c.events.CRASH, (e) => console.error(`kafkajs ${spec.group} crashed:`, e.payload.error));
  await c.connect();
  await c.subscribe({ topics: spec.topics, fromBeginning: true });
  await c.run({
    partitionsConsumedConcurrently: 64,
    autoCommit: false,
    autoCommitInterval: COMMIT_INTERVAL_MS,
    eachBatchAutoResolve: false,
    eachBatch: async (payload: EachBatchPayload) => {
      if (stopping) return;
      flush = async () => {
        const pending = payload.uncommittedOffsets();
        if (pending.topics.length) await payload.commitOffsetsIfNecessary(pending);
      };
      // The kit's eachBatch (shared/consumer/runtime.ts), less the round it applies.
      const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
      if (!isRunning() || isStale()) return;
      const at = nowMs();
      for (const m of batch.messages) {
        tally.record(m.value, at);
        resolveOffset(m.offset);
      }
      await heartbeat();
      // At most once per interval while busy (kafkajs checks the time).
      if (!stopping) await payload.commitOffsetsIfNecessary();
    },
  });
  // When the partitions go quiet, what the last batches resolved is still to be committed.
  const idle = setInterval(() => {
    flush?.().catch((e) => console.error("offset commit:", e));
  }, COMMIT_INTERVAL_MS);
  return {
    joined,
    async stop() {
      stopping = true;
      clearInterval(idle);
      await flush?.().catch(() => {});
      await c.disconnect().catch(() => {});
    },
  };
}

/**
 * One @platformatic/kafka group member with the same settings: a stream that fetches again as soon
 * as a fetch was handed over, offsets of handled records committed by the same rule as the kit's
 * (at most once per interval when a record is handled, and once per interval when idle).
 */
async function platformaticGroup(
  brokers: string[],
  spec: GroupSpec,
  tally: Tally,
): Promise<RunningGroup> {
  let joinedResolve!: () => void;
  const joined = new Promise<void>((r) => (joinedResolve = r));
  const consumer = new PlatformaticConsumer({
    clientId: "kc-bench",
    bootstrapBrokers: brokers,
    groupId: spec.group,
    sessionTimeout: 10_000,
    rebalanceTimeout: 20_000,
    heartbeatInterval: 1_000,
    maxWaitTime: MAX_WAIT_MS,
    minBytes: 1,
    autocommit: false,
    retries: 10,
    retryDelay: 200,
  });
  consumer.on("consumer:group:join", () => joinedResolve());
  const pending = new Map<string, CommitOptionsPartition>();
  let lastCommit = Date.now();
  let committing = false;
  const commit = (): void => {
    if (committing || pending.size === 0) return;
    committing = true;
    tally.commits++;
    lastCommit = Date.now();
    const offsets = [...pending.values()];
    pending.clear();
    consumer.commit({ offsets }).catch((e) => console.error("offset commit:", e)).finally(() => {
      committing = false;
    });
  };
  const stream = await consumer.consume({
    topics: spec.topics,
    mode: "committed",
    fallbackMode: "earliest",
    autocommit: false,
    maxWaitTime: MAX_WAIT_MS,
    minBytes: 1,
  });
  stream.on("fetch", () => tally.fetches++);
  stream.on("error", (e: Error) => console.error(`platformatic ${spec.group} stream:`, e));
  stream.on("data", (m: PlatformaticMessage) => {
    tally.record(m.value, nowMs());
    pending.set(`${m.topic}\0${m.partition}`, {
      topic: m.topic,
      partition: m.partition,
      offset: m.offset + 1n,
      leaderEpoch: m.leaderEpoch,
    });
    if (Date.now() - lastCommit >= COMMIT_INTERVAL_MS) commit();
  });
  const idle = setInterval(commit, COMMIT_INTERVAL_MS);
  return {
    joined,
    async stop() {
      clearInterval(idle);
      await stream.close().catch(() => {});
      commit();
      await consumer.close().catch(() => {});
    },
  };
}

/** The consumer process: joins every group, then answers `mark` and `stop` on stdin. */
async function consumerMain(client: Client, brokers: string[], specs: GroupSpec[]): Promise<void> {
  const tally = new Tally();
  const kafka = kafkaClient("kc-bench", brokers);
  const groups = await Promise.all(
    specs.map((s) =>
      client === "kafkajs" ? kafkajsGroup(kafka, s, tally) : platformaticGroup(brokers, s, tally)
    ),
  );
  await Promise.all(groups.map((g) => g.joined));
  say({ joined: true });
  for await (const line of lines(Deno.stdin.readable)) {
    if (line === "mark") say(tally.mark());
    else if (line === "stop") break;
  }
  await Promise.all(groups.map((g) => g.stop()));
  say({ stopped: true });
  Deno.exit(0);
}

// ---------------------------------------------------------------------------------------------
// The producer process

/** The producer process: `rate` records/s to every topic, a send every 10 ms, until stdin says stop. */
async function producerMain(
  brokers: string[],
  topics: string[],
  rate: number,
  size: number,
): Promise<void> {
  const kafka = kafkaClient("kc-bench-producer", brokers);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const fill = crypto.getRandomValues(new Uint8Array(Math.max(size, 8)));
  const start = nowMs();
  let sent = 0;
  let errors = 0;
  let inFlight = 0;
  const tick = (): void => {
    const due = Math.floor(((nowMs() - start) / 1000) * rate) - sent;
    if (due <= 0) return;
    sent += due;
    const topicMessages = topics.map((topic) => ({
      topic,
      messages: Array.from({ length: due }, () => {
        const value = Buffer.from(fill);
        value.writeDoubleLE(nowMs(), 0);
        return { key: crypto.randomUUID(), value };
      }),
    }));
    inFlight++;
    producer.sendBatch({ topicMessages, acks: -1 }).catch(() => errors++).finally(() => inFlight--);
  };
  const timer = setInterval(tick, TICK_MS);
  say({ started: true });
  for await (const line of lines(Deno.stdin.readable)) if (line === "stop") break;
  clearInterval(timer);
  while (inFlight > 0) await sleep(10);
  await producer.disconnect();
  say({ sent: sent * topics.length, errors });
  Deno.exit(0);
}

// ---------------------------------------------------------------------------------------------
// The parent: runs, measures, reports

/** A child process of this script with its protocol lines. */
class Child {
  readonly proc: Deno.ChildProcess;
  #lines: AsyncGenerator<string>;
  #stdin: WritableStreamDefaultWriter<Uint8Array>;

  constructor(args: string[]) {
    this.proc = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL(import.meta.url).pathname, ...args],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#lines = lines(this.proc.stdout);
    this.#stdin = this.proc.stdin.getWriter();
  }

  get pid(): number {
    return this.proc.pid;
  }

  /** The next protocol message (within `timeoutMs`). */
  async next(timeoutMs = 60_000): Promise<Record<string, number | boolean | null>> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`child ${this.pid}: no answer`)), timeoutMs);
    });
    try {
      for (;;) {
        const r = await Promise.race([this.#lines.next(), timeout]);
        if (r.done) throw new Error(`child ${this.pid} exited`);
        if (r.value.startsWith(TAG)) return JSON.parse(r.value.slice(TAG.length));
        console.error(r.value); // a library printed something
      }
    } finally {
      clearTimeout(timer);
    }
  }

  async send(line: string): Promise<void> {
    await this.#stdin.write(new TextEncoder().encode(line + "\n"));
  }

  /** Asks it to stop; kills it if it has not exited within 20 s. */
  async stop(): Promise<void> {
    await this.send("stop").catch(() => {});
    const killer = setTimeout(() => {
      try {
        this.proc.kill("SIGKILL");
      } catch {
        // exited meanwhile
      }
    }, 20_000);
    // Drain its stdout so it can exit.
    (async () => {
      try {
        for (;;) if ((await this.#lines.next()).done) break;
      } catch {
        // closed
      }
    })();
    await this.proc.status;
    clearTimeout(killer);
  }
}

interface Options {
  brokers: string[];
  rates: number[];
  groups: number;
  topicsPerGroup: number;
  size: number;
  seconds: number;
  warmup: number;
  runs: number;
  clients: Client[];
  brokerPid: number | undefined;
}

interface RunResult {
  client: Client;
  rate: number;
  round: number;
  records: number;
  seconds: number;
  consumerMs: number;
  brokerMs: number;
  producerMs: number;
  otherCores: number;
  perFetch: number;
  commitsPerS: number;
  p50: number;
  p99: number;
}

/** One measured run of a client at a rate. */
async function measure(
  opts: Options,
  admin: ReturnType<Kafka["admin"]>,
  brokerPid: number,
  client: Client,
  rate: number,
  round: number,
): Promise<RunResult> {
  const run = `${PREFIX}${Date.now().toString(36)}`;
  const specs: GroupSpec[] = Array.from({ length: opts.groups }, (_, g) => ({
    group: `${run}.g${g}`,
    topics: Array.from({ length: opts.topicsPerGroup }, (_, t) => `${run}.g${g}.t${t}`),
  }));
  const topics = specs.flatMap((s) => s.topics);
  await admin.createTopics({
    topics: topics.map((topic) => ({ topic, numPartitions: 1, replicationFactor: 1 })),
    waitForLeaders: true,
  });
  const consumer = new Child([
    "--role=consumer",
    `--client=${client}`,
    `--brokers=${opts.brokers.join(",")}`,
    `--specs=${JSON.stringify(specs)}`,
  ]);
  let producer: Child | undefined;
  try {
    await consumer.next(); // every group joined
    producer = new Child([
      "--role=producer",
      `--brokers=${opts.brokers.join(",")}`,
      `--topics=${topics.join(",")}`,
      `--rate=${rate}`,
      `--size=${opts.size}`,
    ]);
    await producer.next();
    await sleep(opts.warmup * 1000);
    const cpu = () => ({
      consumer: cpuSeconds(consumer.pid),
      broker: cpuSeconds(brokerPid),
      producer: cpuSeconds(producer!.pid),
      machine: machineBusySeconds(),
      at: performance.now(),
    });
    await consumer.send("mark");
    const m0 = await consumer.next();
    const c0 = cpu();
    await sleep(opts.seconds * 1000);
    await consumer.send("mark");
    const m1 = await consumer.next();
    const c1 = cpu();
    const records = Number(m1.consumed) - Number(m0.consumed);
    const per = (s: number) => (s * 1000) / records;
    const consumerS = c1.consumer - c0.consumer;
    const brokerS = c1.broker - c0.broker;
    const producerS = c1.producer - c0.producer;
    const seconds = (c1.at - c0.at) / 1000;
    return {
      client,
      rate,
      round,
      records,
      seconds,
      consumerMs: per(consumerS),
      brokerMs: per(brokerS),
      producerMs: per(producerS),
      perFetch: records / (Number(m1.fetches) - Number(m0.fetches)),
      commitsPerS: (Number(m1.commits) - Number(m0.commits)) / seconds,
      otherCores: (c1.machine - c0.machine - consumerS - brokerS - producerS) / seconds,
      p50: m1.p50 === null ? NaN : Number(m1.p50),
      p99: m1.p99 === null ? NaN : Number(m1.p99),
    };
  } finally {
    await producer?.stop();
    await consumer.stop();
    await admin.deleteTopics({ topics }).catch((e) => console.error("delete topics:", e));
    await admin.deleteGroups(specs.map((s) => s.group)).catch((e) =>
      console.error("delete groups:", e)
    );
  }
}

function table(results: RunResult[], opts: Options): string {
  const f = (n: number, d: number) => Number.isFinite(n) ? n.toFixed(d) : "–";
  const out = [
    `${opts.groups} groups × ${opts.topicsPerGroup} single-partition topics, ${opts.size}-byte ` +
    `records, ${opts.seconds} s per run; CPU ms per consumed record`,
    "",
    "| client | rate/topic | round | records | consumer ms/rec | broker ms/rec | producer ms/rec (control) | rec/fetch | commits/s | others (cores) | p50 ms | p99 ms |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of results) {
    out.push(
      `| ${r.client} | ${r.rate} | ${r.round} | ${r.records} | ${f(r.consumerMs, 4)} | ` +
        `${f(r.brokerMs, 4)} | ${f(r.producerMs, 4)} | ${f(r.perFetch, 2)} | ${
          f(r.commitsPerS, 1)
        } | ${f(r.otherCores, 2)} | ${f(r.p50, 1)} | ` +
        `${f(r.p99, 1)} |`,
    );
  }
  return out.join("\n");
}

function parse(argv: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith("--")) throw new Error(`unexpected argument ${a}`);
    const eq = a.indexOf("=");
    if (eq > 0) m.set(a.slice(2, eq), a.slice(eq + 1));
    else m.set(a.slice(2), argv[++i] ?? "");
  }
  return m;
}

async function main(): Promise<void> {
  const args = parse(Deno.args);
  const brokers = (args.get("brokers") ?? "127.0.0.1:39092").split(",");
  const role = args.get("role");
  if (role === "consumer") {
    return consumerMain(
      args.get("client") as Client,
      brokers,
      JSON.parse(args.get("specs")!) as GroupSpec[],
    );
  }
  if (role === "producer") {
    return producerMain(
      brokers,
      args.get("topics")!.split(","),
      Number(args.get("rate")),
      Number(args.get("size")),
    );
  }
  const opts: Options = {
    brokers,
    rates: (args.get("rates") ?? "60,150,300").split(",").map(Number),
    groups: Number(args.get("groups") ?? 3),
    topicsPerGroup: Number(args.get("topics-per-group") ?? 3),
    size: Number(args.get("size") ?? 300),
    seconds: Number(args.get("seconds") ?? 30),
    warmup: Number(args.get("warmup") ?? 5),
    runs: Number(args.get("runs") ?? 2),
    clients: (args.get("clients") ?? CLIENTS.join(",")).split(",") as Client[],
    brokerPid: args.has("broker-pid") ? Number(args.get("broker-pid")) : undefined,
  };
  for (const c of opts.clients) {
    if (!CLIENTS.includes(c)) throw new Error(`--clients: ${c} is not one of ${CLIENTS}`);
  }
  const port = Number(brokers[0]!.split(":").at(-1));
  const brokerPid = opts.brokerPid ?? listenerPid(port);
  if (brokerPid === undefined) {
    throw new Error(`no process listens on port ${port} (pass --broker-pid)`);
  }
  console.error(
    `broker pid ${brokerPid}; ${opts.rates.length * opts.runs * opts.clients.length} runs`,
  );
  const admin = kafkaClient("kc-bench-admin", brokers).admin();
  await admin.connect();
  const results: RunResult[] = [];
  try {
    for (const rate of opts.rates) {
      for (let round = 1; round <= opts.runs; round++) {
        for (const client of opts.clients) {
          const r = await measure(opts, admin, brokerPid, client, rate, round);
          console.error(
            `${client} ${rate}/s round ${round}: ${r.records} records, consumer ` +
              `${r.consumerMs.toFixed(4)} ms/rec, broker ${r.brokerMs.toFixed(4)} ms/rec, ` +
              `p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms`,
          );
          results.push(r);
        }
      }
    }
  } finally {
    // Whatever a failed run left behind.
    const left = (await admin.listTopics().catch(() => [] as string[])).filter((t) =>
      t.startsWith(PREFIX)
    );
    if (left.length) await admin.deleteTopics({ topics: left }).catch(() => {});
    await admin.disconnect();
  }
  console.log(table(results, opts));
}

if (import.meta.main) await main();
