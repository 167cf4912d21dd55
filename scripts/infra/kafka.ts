/**
 * Kafka 3.9.2 in KRaft mode: one JVM that is both broker and controller, in `<state>/kafka`.
 * The storage is formatted once (a random cluster id); the broker is ready when its log says
 * `Kafka Server started`.
 * @module
 */
import { join } from "node:path";
import { type InfraConfig, layoutOf, logFileOf, pidFileOf } from "./config.ts";
import {
  cmdlineOf,
  elapsed,
  InfraError,
  isAlive,
  JVM_ENV,
  portOpen,
  type Progress,
  readPidFile,
  silent,
  smallJvmFlags,
  spawnDetached,
  tailFile,
  waitUntil,
} from "./process.ts";
import { healthError, portTakenError } from "./errors.ts";

/**
 * JVM flags of the broker (see {@linkcode smallJvmFlags}): the full JIT (C2), which the broker's
 * request path needs under load (measured: peak 120 → 140 orders/s on 2 cores against C1 only).
 * Its live heap after a full GC is about 36 MiB.
 */
export const BROKER_JVM_FLAGS: readonly string[] = smallJvmFlags(128);

/** JVM flags of the one-shot tools (storage format). */
export const TOOL_JVM_FLAGS: readonly string[] = [
  "-Xmx128m",
  "-XX:+UseSerialGC",
  "-XX:TieredStopAtLevel=1",
  "-Djava.awt.headless=true",
];

/** The broker's server.properties (pure). */
export function serverProperties(cfg: InfraConfig): string {
  const { kafka, kafkaController } = cfg.ports;
  const h = cfg.host;
  return props({
    "process.roles": "broker,controller",
    "node.id": "1",
    "controller.quorum.voters": `1@${h}:${kafkaController}`,
    "listeners": `PLAINTEXT://${h}:${kafka},CONTROLLER://${h}:${kafkaController}`,
    "advertised.listeners": `PLAINTEXT://${h}:${kafka}`,
    "controller.listener.names": "CONTROLLER",
    "inter.broker.listener.name": "PLAINTEXT",
    "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    "log.dirs": layoutOf(cfg).kafkaData,
    "num.partitions": "1",
    "default.replication.factor": "1",
    "offsets.topic.replication.factor": "1",
    "offsets.topic.num.partitions": "10",
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    "transaction.state.log.num.partitions": "4",
    "group.initial.rebalance.delay.ms": "0",
    "auto.create.topics.enable": "true",
    "delete.topic.enable": "true",
    // The cleaner's dedupe buffer is on the heap: 128 MiB by default.
    "log.cleaner.dedupe.buffer.size": "8388608",
    "num.network.threads": "2",
    "num.io.threads": "4",
    "num.recovery.threads.per.data.dir": "1",
    "log.retention.hours": "168",
    "log.segment.bytes": "67108864",
  });
}

/** Java properties text from a record, in insertion order. */
export function props(entries: Record<string, string>): string {
  return Object.entries(entries).map(([k, v]) => `${k}=${v}`).join("\n") + "\n";
}

/** A reload4j config that logs to stdout (our log file) at `level`, config dumps at WARN. */
export function log4jProperties(
  level: "INFO" | "WARN",
  target: "System.out" | "System.err",
): string {
  return props({
    "log4j.rootLogger": `${level}, console`,
    "log4j.appender.console": "org.apache.log4j.ConsoleAppender",
    "log4j.appender.console.Target": target,
    "log4j.appender.console.layout": "org.apache.log4j.PatternLayout",
    "log4j.appender.console.layout.ConversionPattern": "[%d] %p %m (%c)%n",
    "log4j.logger.org.apache.kafka.clients.consumer.ConsumerConfig": "WARN",
    "log4j.logger.org.apache.kafka.clients.producer.ProducerConfig": "WARN",
    "log4j.logger.org.apache.kafka.clients.admin.AdminClientConfig": "WARN",
    "log4j.logger.org.apache.kafka.common.utils.AppInfoParser": "WARN",
    "log4j.logger.kafka.server.KafkaConfig": "WARN",
    "log4j.logger.org.apache.kafka.connect.runtime.ConnectorConfig": "WARN",
    "log4j.logger.org.apache.kafka.connect.runtime.SourceConnectorConfig": "WARN",
    "log4j.logger.org.apache.kafka.connect.runtime.TaskConfig": "WARN",
    "log4j.logger.org.apache.kafka.connect.runtime.distributed.DistributedConfig": "WARN",
    "log4j.logger.org.apache.kafka.connect.runtime.WorkerConfig": "WARN",
    "log4j.logger.org.reflections": "ERROR",
    "log4j.logger.kafka.request.logger": "WARN",
    "log4j.logger.state.change.logger": "WARN",
  });
}

/**
 * A random Kafka cluster id, like `kafka-storage random-uuid`: 16 random bytes, URL-safe base64
 * without padding, never starting with `-` (the tools would read it as a flag).
 */
export function randomClusterId(): string {
  for (;;) {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    const id = btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
      .replace(/=+$/, "");
    if (!id.startsWith("-")) return id;
  }
}

/** The broker's pid if it runs with this profile's config. */
export function kafkaPid(cfg: InfraConfig): number | undefined {
  const pid = readPidFile(pidFileOf(cfg, "kafka"));
  const conf = join(layoutOf(cfg).kafkaDir, "server.properties");
  return pid !== undefined && isAlive(pid) && cmdlineOf(pid).includes(conf) ? pid : undefined;
}

/**
 * Starts the broker unless it already runs (then it is reused); formats the storage on first use.
 *
 * @returns Whether this call started it.
 */
export async function ensureKafka(
  cfg: InfraConfig,
  libDir: string,
  onProgress: Progress = silent,
): Promise<boolean> {
  const layout = layoutOf(cfg);
  const logFile = logFileOf(cfg, "kafka");
  const port = cfg.ports.kafka;
  const running = kafkaPid(cfg);
  if (running !== undefined) {
    if (!(await waitUntil(() => portOpen(cfg.host, port), { timeoutMs: 60_000 }))) {
      throw healthError("kafka", running, port, logFile);
    }
    return false;
  }
  for (const p of [port, cfg.ports.kafkaController]) {
    if (await portOpen(cfg.host, p)) throw portTakenError("kafka", p, cfg);
  }
  const t0 = performance.now();
  await Deno.mkdir(layout.kafkaDir, { recursive: true });
  const serverConf = join(layout.kafkaDir, "server.properties");
  const log4j = join(layout.kafkaDir, "log4j.properties");
  const toolsLog4j = join(layout.kafkaDir, "tools-log4j.properties");
  await Deno.writeTextFile(serverConf, serverProperties(cfg));
  await Deno.writeTextFile(log4j, log4jProperties("INFO", "System.out"));
  // Tools log to stderr at WARN: INFO on stdout would end up in anything we parse.
  await Deno.writeTextFile(toolsLog4j, log4jProperties("WARN", "System.err"));
  const classpath = `${libDir}/*`;
  try {
    await Deno.stat(join(layout.kafkaData, "meta.properties"));
  } catch {
    onProgress("kafka: formatting the KRaft storage");
    const clusterId = randomClusterId();
    const out = await new Deno.Command("java", {
      args: [
        ...TOOL_JVM_FLAGS,
        `-Dlog4j.configuration=file:${toolsLog4j}`,
        "-cp",
        classpath,
        "kafka.tools.StorageTool",
        "format",
        "-t",
        clusterId,
        "-c",
        serverConf,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    if (out.code !== 0) {
      throw new InfraError(
        `kafka storage format failed:\n${dec.decode(out.stdout)}${dec.decode(out.stderr)}`,
      );
    }
  }
  onProgress(`kafka: starting the broker on ${cfg.host}:${port}`);
  const pid = await spawnDetached({
    cmd: "java",
    args: [
      ...BROKER_JVM_FLAGS,
      `-Dlog4j.configuration=file:${log4j}`,
      "-cp",
      classpath,
      "kafka.Kafka",
      serverConf,
    ],
    env: JVM_ENV,
    logFile,
    pidFile: pidFileOf(cfg, "kafka"),
    cwd: layout.kafkaDir,
  });
  const ready = await waitUntil(
    () => !isAlive(pid) || tailFile(logFile, 400).includes("Kafka Server started"),
    { timeoutMs: 90_000, intervalMs: 100 },
  );
  if (!ready || !isAlive(pid)) {
    throw new InfraError(
      `kafka (pid ${pid}) ${
        isAlive(pid) ? "did not report `Kafka Server started` in 90 s" : "exited"
      }.\n` +
        `--- the end of ${logFile}:\n${tailFile(logFile, 40)}\n` +
        "Fix the cause above (a port in use? a corrupt log dir: `deno task infra reset`), then " +
        "`deno task infra up` again.",
    );
  }
  onProgress(`kafka: ready on port ${port} in ${elapsed(t0)}`);
  return true;
}
