/**
 * The side-by-side method of issue 12, exactly as the Go original was measured: orders of 2
 * distinct random products × 1 (from 50), by a random customer (of 200), sent through the edge;
 * completion is seen by polling the order table every 5 ms (place → first poll that sees APPROVED
 * or REJECTED). Open loop at fixed rates, closed loop with N orders in flight, and one order alone.
 * @module
 */
import postgres from "postgres";
import { Http1Client } from "./http1.ts";
import { percentile } from "./stats.ts";
import type { BenchApi } from "./target.ts";
import { pool } from "./workload.ts";

/** Terminal statuses in the order table (stocklet.order.v1.OrderStatus). */
const TERMINAL = new Map([[3, "APPROVED"], [4, "REJECTED"]]);

/** What the comparison fixture created. */
export interface CompareFixture {
  products: string[];
  customers: Array<{ id: string; token: string }>;
}

/**
 * Creates 50 products with plenty of stock and 200 customers credited far beyond their needs, or
 * reuses the ones a previous run on the same stack created (kept in `cacheFile`) while they still
 * exist and their tokens still work.
 */
export async function compareFixture(
  api: BenchApi,
  opts: {
    products?: number;
    customers?: number;
    log?: (l: string) => void;
    cacheFile?: string;
  } = {},
): Promise<CompareFixture> {
  const log = opts.log ?? (() => {});
  if (opts.cacheFile) {
    try {
      const cached = JSON.parse(await Deno.readTextFile(opts.cacheFile)) as CompareFixture;
      const c = cached.customers[0];
      const product = await api.call("GET", `/v1/product/${cached.products[0]}`);
      const who = c && await api.call("GET", `/v1/payment/balance/${c.id}`, { token: c.token });
      if (
        product.status === 200 && who?.status === 200 &&
        cached.products.length === (opts.products ?? 50) &&
        cached.customers.length === (opts.customers ?? 200)
      ) {
        log(`fixture: reusing ${opts.cacheFile}`);
        return cached;
      }
    } catch { /* none yet, or stale */ }
  }
  const made = await makeFixture(api, opts, log);
  if (opts.cacheFile) await Deno.writeTextFile(opts.cacheFile, JSON.stringify(made));
  return made;
}

async function makeFixture(
  api: BenchApi,
  opts: { products?: number; customers?: number },
  log: (l: string) => void,
): Promise<CompareFixture> {
  const t0 = performance.now();
  const products = await pool(
    Array.from({ length: opts.products ?? 50 }, (_, i) => i),
    4,
    (i) => api.product(100 + ((i * 137) % 900), 1_000_000),
  );
  const customers = await pool(Array.from({ length: opts.customers ?? 200 }), 4, async () => {
    const c = await api.customer();
    await api.credit(c.id, 10_000_000_000n);
    return { id: c.id, token: c.token };
  });
  log(
    `fixture: ${products.length} products, ${customers.length} customers in ${
      Math.round(performance.now() - t0)
    } ms`,
  );
  return { products, customers };
}

/** One order's life as the method sees it. */
export interface Timed {
  sentAt: number;
  /** When the place request answered. */
  answeredAt?: number;
  orderId?: string;
  /** When the 5 ms poll first saw it terminal. */
  doneAt?: number;
  status?: string;
  error?: string;
}

/**
 * Watches the order table: every `intervalMs`, one query for the orders still awaited; resolves
 * each one's promise when it is terminal.
 */
export class TerminalPoller {
  #sql: postgres.Sql;
  #waiting = new Map<string, (s: { at: number; status: string }) => void>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  polls = 0;

  /**
   * @param orderDbUrl A URL of the order service's database.
   * @param schema The order service's schema (when the URL's role does not have it as its
   *   search_path, e.g. an administrator's, whose backend the CPU figures tell apart).
   */
  constructor(orderDbUrl: string, schema?: string, readonly intervalMs = 5) {
    this.#sql = postgres(orderDbUrl, {
      max: 1,
      onnotice: () => {},
      ...(schema ? { connection: { search_path: `"${schema}"` } } : {}),
    });
  }

  /** Starts polling. */
  start(): void {
    const tick = async () => {
      if (this.#stopped) return;
      if (this.#waiting.size) {
        try {
          const ids = [...this.#waiting.keys()];
          const rows = await this.#sql<{ id: string; status: number }[]>`
            select id::text, status from orders
            where id = any(${ids}::uuid[]) and status in (3, 4)`;
          const at = Date.now();
          this.polls++;
          for (const r of rows) {
            const done = this.#waiting.get(r.id);
            this.#waiting.delete(r.id);
            done?.({ at, status: TERMINAL.get(r.status)! });
          }
        } catch { /* next tick */ }
      }
      this.#timer = setTimeout(tick, this.intervalMs);
    };
    this.#timer = setTimeout(tick, this.intervalMs);
  }

  /** Resolves when the order is terminal. */
  wait(orderId: string): Promise<{ at: number; status: string }> {
    return new Promise((resolve) => this.#waiting.set(orderId, resolve));
  }

  /** Orders still awaited. */
  get pending(): number {
    return this.#waiting.size;
  }

  /** Stops polling (awaited orders never resolve). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#sql.end({ timeout: 2 });
  }
}

/**
 * The HTTP client a placer sends with: `lean` (bench/http1.ts: keep-alive HTTP/1.1 over raw
 * sockets, about half of fetch's CPU per request) or `fetch` (what the reference table was
 * measured with).
 */
export type PlacerClient = "lean" | "fetch";

/** Places orders the way the method does. */
export class ComparePlacer {
  #url: string;
  #path: string;
  #lean: Http1Client | undefined;
  constructor(
    api: BenchApi,
    readonly fixture: CompareFixture,
    readonly poller: TerminalPoller,
    readonly rand: () => number,
    client: PlacerClient = "lean",
  ) {
    this.#path = "/v1/order/place";
    this.#url = api.baseOf(this.#path) + this.#path;
    if (client === "lean") this.#lean = new Http1Client(api.baseOf(this.#path));
  }

  /** Two distinct random products × 1, a random customer. */
  #cart(): { token: string; body: string } {
    const ps = this.fixture.products;
    const a = Math.floor(this.rand() * ps.length);
    let b = Math.floor(this.rand() * (ps.length - 1));
    if (b >= a) b++;
    const c = this.fixture.customers[Math.floor(this.rand() * this.fixture.customers.length)]!;
    return { token: c.token, body: JSON.stringify({ [ps[a]!]: 1, [ps[b]!]: 1 }) };
  }

  async #post(token: string, body: string): Promise<{ status: number; text: string }> {
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    if (this.#lean) {
      return await this.#lean.request({
        method: "POST",
        path: this.#path,
        headers,
        body,
        timeoutMs: 30_000,
      });
    }
    const res = await fetch(this.#url, {
      method: "POST",
      headers,
      body,
      signal: AbortSignal.timeout(30_000),
    });
    return { status: res.status, text: await res.text() };
  }

  /** Places one order and follows it to its terminal status (or records why not). */
  async one(): Promise<Timed> {
    const { token, body } = this.#cart();
    const t: Timed = { sentAt: Date.now() };
    try {
      const res = await this.#post(token, body);
      t.answeredAt = Date.now();
      if (res.status !== 200) {
        t.error = `${res.status} ${res.text.slice(0, 120)}`;
        return t;
      }
      t.orderId = (JSON.parse(res.text) as { order: { id: string } }).order.id;
    } catch (e) {
      t.error = e instanceof Error ? e.message : String(e);
      return t;
    }
    const done = await this.poller.wait(t.orderId);
    t.doneAt = done.at;
    t.status = done.status;
    return t;
  }

  /** Closes the placer's connections. */
  close(): void {
    this.#lean?.close();
  }
}

/** The figures of one measured phase. */
export interface PhaseFigures {
  label: string;
  /** Offered orders/s (open loop) or orders in flight (closed loop). */
  offered: number;
  seconds: number;
  placed: number;
  completedPerSec: number;
  p50: number;
  p99: number;
  /** Place requests refused (429/503: shed load) and failed otherwise. */
  refused: number;
  failed: number;
  /** Orders not terminal when the phase's grace period ended. */
  unfinished: number;
  rejectedTimeout?: number;
}

/** Sums up a phase: completed/s over the phase's sending window, latencies of completed ones. */
export function figuresOf(
  label: string,
  offered: number,
  seconds: number,
  orders: readonly Timed[],
): PhaseFigures {
  const done = orders.filter((o) => o.doneAt !== undefined);
  const lat = done.map((o) => o.doneAt! - o.sentAt).sort((a, b) => a - b);
  const refused = orders.filter((o) => /^(429|503) /.test(o.error ?? "")).length;
  return {
    label,
    offered,
    seconds,
    placed: orders.filter((o) => o.orderId).length,
    completedPerSec: Math.round((done.length / seconds) * 10) / 10,
    p50: Math.round(percentile(lat, 50)),
    p99: Math.round(percentile(lat, 99)),
    refused,
    failed: orders.filter((o) => o.error && !/^(429|503) /.test(o.error)).length,
    unfinished: orders.filter((o) => o.orderId && o.doneAt === undefined).length,
  };
}

/** A phase's figures and its orders. */
export interface PhaseRun {
  figures: PhaseFigures;
  orders: Timed[];
}

/** Open loop: `rate` orders/s for `seconds`, then up to `graceMs` for the stragglers. */
export async function openLoop(
  placer: ComparePlacer,
  rate: number,
  seconds: number,
  graceMs = 30_000,
): Promise<PhaseRun> {
  const orders: Promise<Timed>[] = [];
  const t0 = Date.now();
  const end = t0 + seconds * 1000;
  let issued = 0;
  while (Date.now() < end) {
    const due = Math.floor(((Date.now() - t0) * rate) / 1000);
    while (issued < due) {
      issued++;
      orders.push(placer.one());
    }
    await new Promise((r) =>
      setTimeout(r, Math.max(1, t0 + ((issued + 1) * 1000) / rate - Date.now()))
    );
  }
  const settled = await settle(orders, graceMs);
  return { figures: figuresOf(`open ${rate}/s`, rate, seconds, settled), orders: settled };
}

/** Closed loop: `inFlight` workers each place an order and wait for it, for `seconds`. */
export async function closedLoop(
  placer: ComparePlacer,
  inFlight: number,
  seconds: number,
  graceMs = 30_000,
): Promise<PhaseRun> {
  const end = Date.now() + seconds * 1000;
  const all: Promise<Timed>[] = [];
  const worker = async () => {
    while (Date.now() < end) {
      const p = placer.one();
      all.push(p);
      const t = await p;
      if (t.error) await new Promise((r) => setTimeout(r, 5));
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const settled = await settle(all, graceMs);
  // Only orders completed inside the window count towards the rate.
  const inside = settled.filter((t) => t.doneAt === undefined || t.doneAt <= end);
  return {
    figures: figuresOf(`closed ${inFlight} in flight`, inFlight, seconds, inside),
    orders: settled,
  };
}

/** One order at a time, `n` of them: the unloaded latency. */
export async function alone(placer: ComparePlacer, n: number): Promise<PhaseRun> {
  const out: Timed[] = [];
  const t0 = Date.now();
  for (let i = 0; i < n; i++) {
    out.push(await placer.one());
    await new Promise((r) => setTimeout(r, 50));
  }
  return { figures: figuresOf("one order alone", 1, (Date.now() - t0) / 1000, out), orders: out };
}

async function settle(orders: Promise<Timed>[], graceMs: number): Promise<Timed[]> {
  const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), graceMs));
  const results: Timed[] = [];
  // Each promise resolves once its order is terminal; stragglers past the grace are unfinished.
  const wrapped = orders.map(async (p) => {
    const r = await Promise.race([p, timeout]);
    if (r !== "timeout") results.push(r);
  });
  await Promise.all(wrapped);
  return results.concat(
    Array.from({ length: orders.length - results.length }, () => ({
      sentAt: 0,
      orderId: "unfinished",
    })),
  );
}

/** For a human reading the terminal. */
export function line(f: PhaseFigures): string {
  return `${f.label.padEnd(24)} ${String(f.completedPerSec).padStart(6)}/s  p50 ${
    String(f.p50).padStart(5)
  } ms  p99 ${
    String(f.p99).padStart(5)
  } ms  placed ${f.placed}, refused ${f.refused}, failed ${f.failed}, unfinished ${f.unfinished}`;
}
