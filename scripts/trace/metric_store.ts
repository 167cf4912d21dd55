/**
 * What the dev and test stacks' collector keeps of the metrics it receives: every series (a
 * service's metric with one set of attributes) with its recent cumulative points, in memory. The
 * processes export cumulative values every couple of seconds, so a window's increase or histogram
 * is the difference of two points; `deno task top`, the tests and the bench read them through the
 * collector's `/api/metrics`.
 * @module
 */
import { attributesOf, type KeyValue } from "./otlp.ts";

/** A histogram's cumulative state at one time. */
export interface HistogramValue {
  count: number;
  sum: number;
  /** Upper bounds of the buckets but the last (which is +Inf). */
  bounds: number[];
  /** Counts per bucket (bounds.length + 1 of them). */
  buckets: number[];
}

/** One point of a series: a time (ms) and a number (sums, gauges) or a histogram. */
export interface Point {
  t: number;
  /** When the cumulative value started from zero (ms; the process's start, or its reset). */
  s?: number;
  v?: number;
  h?: HistogramValue;
}

/** Every point of one metric of one service with one set of attributes. */
export interface Series {
  service: string;
  /** Which process of the service (`service.instance.id`: `order`, `order@1`), when it said. */
  instance?: string;
  /** The instrumentation scope (`stocklet` for ours, `deno` and `v8js` for the runtime's). */
  scope: string;
  name: string;
  unit: string;
  kind: "sum" | "gauge" | "histogram";
  /** Counters only go up (a drop means the process restarted). */
  monotonic: boolean;
  attributes: Record<string, unknown>;
  /**
   * It appeared after its process had already exported other series (a counter first recorded
   * with these attributes long after the process started): its first value is growth since then,
   * not a total from before the collector listened.
   */
  late?: boolean;
  points: Point[];
}

interface OtlpNumberPoint {
  attributes?: KeyValue[];
  startTimeUnixNano?: string | number;
  timeUnixNano?: string | number;
  asDouble?: number;
  asInt?: string | number;
}
interface OtlpHistogramPoint {
  attributes?: KeyValue[];
  startTimeUnixNano?: string | number;
  timeUnixNano?: string | number;
  count?: string | number;
  sum?: number;
  bucketCounts?: Array<string | number>;
  explicitBounds?: number[];
}
interface OtlpMetric {
  name: string;
  unit?: string;
  sum?: { dataPoints?: OtlpNumberPoint[]; isMonotonic?: boolean };
  gauge?: { dataPoints?: OtlpNumberPoint[] };
  histogram?: { dataPoints?: OtlpHistogramPoint[] };
}
/** An OTLP/HTTP JSON metrics export (`ExportMetricsServiceRequest`). */
export interface ExportMetricsRequest {
  resourceMetrics?: Array<{
    resource?: { attributes?: KeyValue[] };
    scopeMetrics?: Array<{ scope?: { name?: string }; metrics?: OtlpMetric[] }>;
  }>;
}

/** Options of {@linkcode MetricStore}. */
export interface MetricStoreOptions {
  /** How long points are kept (ms). @default 600_000 */
  retentionMs?: number;
  now?: () => number;
}

/** A query: which series, and how much of their past. */
export interface MetricQuery {
  /** Metric names (all when empty). */
  names?: readonly string[];
  /** Only this service's series. */
  service?: string;
  /** Points newer than now − windowMs (the latest point is always included). @default 60_000 */
  windowMs?: number;
}

function timeOf(ns: string | number | undefined, fallback: number): number {
  if (ns === undefined) return fallback;
  const n = Number(ns) / 1e6;
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

function stableKey(attrs: Record<string, unknown>): string {
  return JSON.stringify(Object.keys(attrs).sort().map((k) => [k, attrs[k]]));
}

/** Keeps recent points of every series received. */
export class MetricStore {
  readonly #series = new Map<string, Series>();
  /** Processes (service and instance) whose exports arrived before. */
  readonly #processes = new Set<string>();
  readonly #retentionMs: number;
  readonly #now: () => number;
  #received = 0;

  constructor(opts: MetricStoreOptions = {}) {
    this.#retentionMs = opts.retentionMs ?? 600_000;
    this.#now = opts.now ?? Date.now;
  }

  /** Exports received so far. */
  get received(): number {
    return this.#received;
  }

  /** Series held. */
  get size(): number {
    return this.#series.size;
  }

  /** Adds an export's points. */
  add(req: ExportMetricsRequest): number {
    const now = this.#now();
    let points = 0;
    for (const rm of req.resourceMetrics ?? []) {
      const resource = attributesOf(rm.resource?.attributes);
      const service = String(resource["service.name"] ?? "unknown");
      const instance = resource["service.instance.id"] === undefined
        ? undefined
        : String(resource["service.instance.id"]);
      const process = `${service}\0${instance ?? ""}`;
      const known = this.#processes.has(process);
      for (const sm of rm.scopeMetrics ?? []) {
        const scope = sm.scope?.name ?? "";
        for (const m of sm.metrics ?? []) {
          const push = (
            kind: Series["kind"],
            monotonic: boolean,
            attrsKv: KeyValue[] | undefined,
            p: Point,
          ) => {
            const attributes = attributesOf(attrsKv);
            const key = `${service}\0${instance ?? ""}\0${scope}\0${m.name}\0${
              stableKey(attributes)
            }`;
            let s = this.#series.get(key);
            if (!s) {
              s = {
                service,
                ...(instance !== undefined ? { instance } : {}),
                ...(known ? { late: true } : {}),
                scope,
                name: m.name,
                unit: m.unit ?? "",
                kind,
                monotonic,
                attributes,
                points: [],
              };
              this.#series.set(key, s);
            }
            const last = s.points.at(-1);
            if (last && p.t <= last.t) return; // a repeated or late export
            s.points.push(p);
            points++;
          };
          if (m.sum) {
            for (const dp of m.sum.dataPoints ?? []) {
              push("sum", m.sum.isMonotonic ?? false, dp.attributes, {
                t: timeOf(dp.timeUnixNano, now),
                s: timeOf(dp.startTimeUnixNano, 0),
                v: Number(dp.asDouble ?? dp.asInt ?? 0),
              });
            }
          } else if (m.gauge) {
            for (const dp of m.gauge.dataPoints ?? []) {
              push("gauge", false, dp.attributes, {
                t: timeOf(dp.timeUnixNano, now),
                v: Number(dp.asDouble ?? dp.asInt ?? 0),
              });
            }
          } else if (m.histogram) {
            for (const dp of m.histogram.dataPoints ?? []) {
              push("histogram", true, dp.attributes, {
                t: timeOf(dp.timeUnixNano, now),
                s: timeOf(dp.startTimeUnixNano, 0),
                h: {
                  count: Number(dp.count ?? 0),
                  sum: Number(dp.sum ?? 0),
                  bounds: dp.explicitBounds ?? [],
                  buckets: (dp.bucketCounts ?? []).map(Number),
                },
              });
            }
          }
        }
      }
    }
    for (const rm of req.resourceMetrics ?? []) {
      const resource = attributesOf(rm.resource?.attributes);
      const instance = resource["service.instance.id"];
      this.#processes.add(
        `${String(resource["service.name"] ?? "unknown")}\0${
          instance === undefined ? "" : String(instance)
        }`,
      );
    }
    this.#received++;
    this.#prune(now);
    return points;
  }

  #prune(now: number): void {
    const oldest = now - this.#retentionMs;
    for (const [key, s] of this.#series) {
      let i = 0;
      // Keep one point at or before the cutoff, so a window reaching back there has a start.
      while (i < s.points.length - 1 && s.points[i + 1]!.t < oldest) i++;
      if (i) s.points.splice(0, i);
      if (s.points.at(-1)!.t < oldest) this.#series.delete(key);
    }
  }

  /** The series a query selects, each with its points in the window (and the one before it). */
  query(q: MetricQuery = {}): Series[] {
    const since = this.#now() - (q.windowMs ?? 60_000);
    const names = q.names?.length ? new Set(q.names) : undefined;
    const out: Series[] = [];
    for (const s of this.#series.values()) {
      if (names && !names.has(s.name)) continue;
      if (q.service && s.service !== q.service) continue;
      let i = s.points.length - 1;
      while (i > 0 && s.points[i]!.t > since) i--;
      out.push({ ...s, points: s.points.slice(i) });
    }
    return out;
  }
}
