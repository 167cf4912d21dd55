/**
 * The open-loop load generator: orders are sent at a fixed arrival rate whatever the stack's
 * answers (a slow stack gets a growing backlog, as with real customers), from one Deno process
 * with keep-alive fetches. Each placed order is recorded with its send time, answer and id; the
 * outcome comes from the terminal-event watcher.
 * @module
 */
import type { BenchApi } from "./target.ts";
import { chooseOrder, type Fixture, type Mix, type OrderKind } from "./workload.ts";

/** One place request. */
export interface PlacedOrder {
  seq: number;
  /** The phase it belongs to (e.g. `ramp 60/s`, `half-peak`). */
  phase: string;
  kind: OrderKind;
  customerId: string;
  /** When the request was sent (epoch ms). */
  sentAt: number;
  /** When its answer arrived (epoch ms). */
  answeredAt?: number;
  /** HTTP status (0: no answer). */
  status?: number;
  orderId?: string;
  error?: string;
  /** A `cancel` order: the status its cancellation was answered with (0: no answer). */
  cancelStatus?: number;
}

/** Options of {@linkcode LoadGenerator}. */
export interface LoadOptions {
  /** Requests in flight at most; beyond it an arrival is dropped and counted. @default 2000 */
  maxInFlight?: number;
  /** Per-request timeout. @default 15000 */
  timeoutMs?: number;
  /** PRNG for the order mix. */
  rand: () => number;
  /** A `cancel` order is cancelled up to this long after its placement was answered. @default 1500 */
  cancelWithinMs?: number;
}

/** What one phase issued. */
export interface PhaseRun {
  label: string;
  rate: number;
  from: number;
  to: number;
  issued: number;
  dropped: number;
}

/** Resolves after ms. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Sends orders at given rates and remembers every request. */
export class LoadGenerator {
  readonly orders: PlacedOrder[] = [];
  #inFlight = 0;
  #pending = new Set<Promise<void>>();
  #url: string;

  constructor(
    readonly api: BenchApi,
    readonly fixture: Fixture,
    readonly mix: Mix,
    readonly opts: LoadOptions,
  ) {
    this.#url = api.baseOf("/v1/order/place") + "/v1/order/place";
  }

  /** Requests without an answer yet. */
  get inFlight(): number {
    return this.#inFlight;
  }

  #place(phase: string): void {
    const plan = chooseOrder(this.opts.rand, this.fixture, this.mix);
    const rec: PlacedOrder = {
      seq: this.orders.length,
      phase,
      kind: plan.kind,
      customerId: plan.customer.id,
      sentAt: Date.now(),
    };
    this.orders.push(rec);
    this.#inFlight++;
    const p = (async () => {
      try {
        const res = await fetch(this.#url, {
          method: "POST",
          headers: {
            authorization: `Bearer ${plan.customer.token}`,
            "content-type": "application/json",
          },
          body: JSON.stringify(plan.cart),
          signal: AbortSignal.timeout(this.opts.timeoutMs ?? 15_000),
        });
        const text = await res.text();
        rec.answeredAt = Date.now();
        rec.status = res.status;
        if (res.status === 200) {
          rec.orderId = (JSON.parse(text) as { order: { id: string } }).order.id;
          if (plan.kind === "cancel") {
            await this.#cancel(rec, plan.customer.token);
          }
        } else {
          rec.error = text.slice(0, 200);
        }
      } catch (e) {
        rec.answeredAt = Date.now();
        rec.status = 0;
        rec.error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      } finally {
        this.#inFlight--;
      }
    })();
    this.#pending.add(p);
    p.finally(() => this.#pending.delete(p));
  }

  /**
   * Sends `rate` orders per second for `durationMs` (open loop: the n-th order is due at
   * n / rate seconds, whatever happened to the earlier ones); stops early when `signal` aborts.
   */
  async run(
    label: string,
    rate: number,
    durationMs: number,
    signal?: AbortSignal,
  ): Promise<PhaseRun> {
    const from = Date.now();
    const end = from + durationMs;
    const max = this.opts.maxInFlight ?? 2000;
    let issued = 0;
    let dropped = 0;
    while (!signal?.aborted) {
      const now = Date.now();
      if (now >= end) break;
      const due = Math.floor(((now - from) * rate) / 1000);
      while (issued < due) {
        issued++;
        if (this.#inFlight >= max) dropped++;
        else this.#place(label);
      }
      const nextDue = from + ((issued + 1) * 1000) / rate;
      await sleep(Math.max(1, Math.min(nextDue, end) - Date.now()));
    }
    return { label, rate, from, to: Math.min(Date.now(), end), issued, dropped };
  }

  /** Cancels a placed order after a random moment (so some land in flight, some approved). */
  async #cancel(rec: PlacedOrder, token: string): Promise<void> {
    await sleep(Math.floor(this.opts.rand() * (this.opts.cancelWithinMs ?? 1_500)));
    try {
      const res = await fetch(
        this.api.baseOf("/v1/order/") + `/v1/order/orders/${rec.orderId}/cancel`,
        {
          method: "POST",
          headers: { authorization: `Bearer ${token}` },
          signal: AbortSignal.timeout(this.opts.timeoutMs ?? 15_000),
        },
      );
      await res.body?.cancel();
      rec.cancelStatus = res.status;
    } catch {
      rec.cancelStatus = 0;
    }
  }

  /** Waits for every request in flight to be answered. */
  async settle(): Promise<void> {
    while (this.#pending.size) await Promise.allSettled([...this.#pending]);
  }
}
