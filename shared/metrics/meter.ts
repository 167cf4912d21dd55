/**
 * The meter every Stocklet module records into. Deno's built-in OpenTelemetry (`OTEL_DENO=true`)
 * registers the meter provider and exports what is recorded over OTLP every
 * `OTEL_METRIC_EXPORT_INTERVAL` ms; without it `@opentelemetry/api` hands out no-op instruments.
 * `STOCKLET_METRICS=off` turns Stocklet's own instruments into no-ops while traces stay on (to
 * measure what metrics cost).
 *
 * Recording is in process and cheap; nothing here may query a database or call the network per
 * request or per event. Deno's instruments cost about 300 ns per attribute per measurement (the
 * attributes cross into the runtime each time), so counters on hot paths are
 * {@linkcode SummedCounter}s (a number added in JS, reported at export time) and histograms carry
 * as few attributes as they need. Observable gauges are read at export time; whatever they need to
 * query is refreshed at most once per {@linkcode gaugeRefreshMs}.
 * @module
 */
import {
  type Attributes,
  createNoopMeter,
  type Meter,
  type MetricOptions,
  metrics,
} from "@opentelemetry/api";

/** The variables that decide whether metrics are on. */
export interface MetricsEnv {
  OTEL_DENO?: string | undefined;
  STOCKLET_METRICS?: string | undefined;
}

function processEnv(): MetricsEnv {
  try {
    return {
      OTEL_DENO: Deno.env.get("OTEL_DENO"),
      STOCKLET_METRICS: Deno.env.get("STOCKLET_METRICS"),
    };
  } catch {
    return {}; // no env permission: off
  }
}

/** Whether Stocklet's instruments record (OTel on and `STOCKLET_METRICS` not `off`). */
export function metricsEnabled(env: MetricsEnv = processEnv()): boolean {
  const otel = (env.OTEL_DENO ?? "").toLowerCase();
  return (otel === "true" || otel === "1") && env.STOCKLET_METRICS !== "off";
}

/** The meter of Stocklet's instruments (a no-op one when metrics are off). */
export const meter: Meter = metricsEnabled()
  ? metrics.getMeter("stocklet", "0.1.0")
  : createNoopMeter();

/**
 * How stale a gauge that has to query something may be (ms): at most one query per this
 * interval, whatever the export interval. `STOCKLET_METRICS_GAUGE_REFRESH_MS`, default 5000.
 */
export const gaugeRefreshMs: number = (() => {
  try {
    const ms = Number(Deno.env.get("STOCKLET_METRICS_GAUGE_REFRESH_MS"));
    return ms > 0 ? ms : 5000;
  } catch {
    return 5000;
  }
})();

/** Bucket bounds (s) for request handling: 0.5 ms … 10 s. */
export const REQUEST_BUCKETS: readonly number[] = [
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.0075,
  0.01,
  0.025,
  0.05,
  0.075,
  0.1,
  0.25,
  0.5,
  0.75,
  1,
  2.5,
  5,
  10,
];

/** Bucket bounds (s) for a saga or an event's hop: fine around 10 ms – 1 s, up to a minute. */
export const LATENCY_BUCKETS: readonly number[] = [
  0.005,
  0.01,
  0.02,
  0.03,
  0.04,
  0.05,
  0.075,
  0.1,
  0.125,
  0.15,
  0.175,
  0.2,
  0.25,
  0.3,
  0.35,
  0.4,
  0.5,
  0.6,
  0.75,
  1,
  1.5,
  2,
  3,
  5,
  10,
  30,
  60,
];

/**
 * A value read at export time that has to be fetched (a query, an admin request): the gauge's
 * callback reports the last value and starts a refresh when it is older than `maxAgeMs`, never
 * two at once. No exports, no queries.
 *
 * @example
 * ```ts
 * const pending = new Refreshed(() => countPending(sql), 5000);
 * gauge.addCallback((r) => { const v = pending.read(); if (v !== undefined) r.observe(v); });
 * ```
 */
export class Refreshed<T> {
  #value: T | undefined;
  #at = -Infinity;
  #running = false;

  constructor(
    readonly fetch: () => Promise<T>,
    readonly maxAgeMs: number = gaugeRefreshMs,
    readonly onError: (error: unknown) => void = () => {},
    readonly now: () => number = Date.now,
  ) {}

  /** The last value (undefined before the first one), refreshing it in the background if stale. */
  read(): T | undefined {
    if (!this.#running && this.now() - this.#at >= this.maxAgeMs) {
      this.#running = true;
      this.#at = this.now();
      this.fetch().then((v) => (this.#value = v), this.onError).finally(() => {
        this.#running = false;
      });
    }
    return this.#value;
  }

  /** Fetches now and waits (for tests and the first export). */
  async refresh(): Promise<T> {
    this.#at = this.now();
    this.#value = await this.fetch();
    return this.#value;
  }
}

/**
 * A monotonic counter summed in JavaScript and reported at export time (an observable counter):
 * adding costs a map update, whatever the attributes, instead of a call into the runtime. Pass the
 * same attributes object for the same series (keep them in a constant or a cache): series are
 * told apart by object identity.
 *
 * @example
 * ```ts
 * const placed = new SummedCounter("stocklet.saga.started", { unit: "{order}" });
 * const none = {};
 * placed.add(1, none);
 * ```
 */
export class SummedCounter {
  readonly #sums = new Map<Attributes, number>();
  readonly #on: boolean;

  constructor(
    name: string,
    options: MetricOptions,
    on: Meter = meter,
    enabled: boolean = metricsEnabled(),
  ) {
    this.#on = enabled;
    on.createObservableCounter(name, options).addCallback((r) => {
      for (const [attrs, n] of this.#sums) r.observe(n, attrs);
    });
  }

  /** Adds n (≥ 0) to the series of `attrs`. */
  add(n: number, attrs: Attributes): void {
    if (this.#on) this.#sums.set(attrs, (this.#sums.get(attrs) ?? 0) + n);
  }

  /** The sum of a series so far (for tests). */
  valueOf(attrs: Attributes): number {
    return this.#sums.get(attrs) ?? 0;
  }
}
