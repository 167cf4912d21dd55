/**
 * The process: `process.memory.usage` (By, resident set), `stocklet.eventloop.delay` (s, how late
 * a 100 ms timer fires: what every request and event waits on top of its own work) and the
 * database pool (`db.client.connection.count` with `db.client.connection.state` = used: connections
 * held by transactions; `db.client.connection.pending_requests`: transactions waiting for one;
 * `db.client.connection.max`; `db.client.connection.wait_time`). The pool's counts are plain
 * numbers `shared/db.ts` keeps, read at export time.
 * @module
 */
import { LATENCY_BUCKETS, meter, metricsEnabled } from "./meter.ts";

/** What the transaction helper counts about its pool (one pool per process). */
export const poolUsage: { inUse: number; waiting: number; max: number } = {
  inUse: 0,
  waiting: 0,
  max: 0,
};

const waitTime = meter.createHistogram("db.client.connection.wait_time", {
  description: "Time a transaction waited for a connection from the pool",
  unit: "s",
  advice: { explicitBucketBoundaries: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5] },
});

/** Records how long a transaction waited for its connection. */
export function recordPoolWait(seconds: number): void {
  waitTime.record(seconds);
}

/**
 * Starts reporting the process's instruments (memory, event-loop delay, pool) under `poolName`.
 * @returns A function that stops it.
 */
export function watchProcess(poolName: string): () => void {
  if (!metricsEnabled()) return () => {};
  const pool = { "db.client.connection.pool.name": poolName };
  const used = { ...pool, "db.client.connection.state": "used" };
  const connections = meter.createObservableUpDownCounter("db.client.connection.count", {
    description: "Connections of the pool held by transactions",
    unit: "{connection}",
  });
  const pending = meter.createObservableUpDownCounter("db.client.connection.pending_requests", {
    description: "Transactions waiting for a connection",
    unit: "{request}",
  });
  const max = meter.createObservableUpDownCounter("db.client.connection.max", {
    description: "The pool's size",
    unit: "{connection}",
  });
  const memory = meter.createObservableUpDownCounter("process.memory.usage", {
    description: "Resident set size of the process",
    unit: "By",
  });
  // A process without a pool (the edge) reports none.
  connections.addCallback((r) => {
    if (poolUsage.max) r.observe(poolUsage.inUse, used);
  });
  pending.addCallback((r) => {
    if (poolUsage.max) r.observe(poolUsage.waiting, pool);
  });
  max.addCallback((r) => {
    if (poolUsage.max) r.observe(poolUsage.max, pool);
  });
  memory.addCallback((r) => r.observe(Deno.memoryUsage().rss));

  const delay = meter.createHistogram("stocklet.eventloop.delay", {
    description: "How late a 100 ms timer fires (event-loop delay)",
    unit: "s",
    advice: { explicitBucketBoundaries: [0.001, ...LATENCY_BUCKETS] },
  });
  const periodMs = 100;
  let expected = performance.now() + periodMs;
  const timer = setInterval(() => {
    const now = performance.now();
    delay.record(Math.max(0, now - expected) / 1000);
    expected = now + periodMs;
  }, periodMs);
  Deno.unrefTimer(timer);
  return () => clearInterval(timer);
}
