/**
 * The instruments the code creates (`meter.createCounter("name", { …, unit })` and the others),
 * found by scanning the sources, with the names the OpenTelemetry collector's Prometheus exporter
 * gives them: what the dashboards and alert rules may refer to.
 * @module
 */
import { join, relative } from "node:path";
import { ROOT } from "../lib/paths.ts";

/** One instrument. */
export interface Instrument {
  name: string;
  kind: "counter" | "upDownCounter" | "histogram" | "gauge";
  unit: string;
  description: string;
  /** Where it is created (relative path). */
  file: string;
}

const KINDS: Record<string, Instrument["kind"]> = {
  createCounter: "counter",
  createObservableCounter: "counter",
  SummedCounter: "counter",
  createUpDownCounter: "upDownCounter",
  createObservableUpDownCounter: "upDownCounter",
  createHistogram: "histogram",
  createGauge: "gauge",
  createObservableGauge: "gauge",
};

/** The instruments created in `.ts` files under `dirs` (tests excluded). */
export async function instrumentsOf(
  dirs: readonly string[] = ["shared", "services", "edge"],
): Promise<Instrument[]> {
  const out: Instrument[] = [];
  // The options object runs to the call's closing `})` (units such as "{message}" hold braces).
  const re = /(?:meter\.(create\w+)|new (SummedCounter))\(\s*"([^"]+)",\s*\{([\s\S]*?)\}\s*\)/g;
  async function walk(dir: string): Promise<void> {
    for await (const e of Deno.readDir(dir)) {
      const p = join(dir, e.name);
      if (e.isDirectory && e.name !== "gen") await walk(p);
      else if (e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) {
        const text = await Deno.readTextFile(p);
        for (const m of text.matchAll(re)) {
          const kind = KINDS[m[1] ?? m[2]!];
          if (!kind) continue;
          out.push({
            name: m[3]!,
            kind,
            unit: /unit:\s*"([^"]*)"/.exec(m[4]!)?.[1] ?? "",
            description: /description:\s*"([^"]*)"/.exec(m[4]!)?.[1] ?? "",
            file: relative(ROOT, p),
          });
        }
      }
    }
  }
  for (const d of dirs) await walk(join(ROOT, d));
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

const UNIT_SUFFIX: Record<string, string> = {
  s: "seconds",
  ms: "milliseconds",
  By: "bytes",
  "1": "ratio",
};

/**
 * The Prometheus series names of an instrument: dots become `_`, the unit a suffix (`_seconds`;
 * annotations in braces such as `{message}` none), counters get `_total`, histograms their
 * `_bucket`, `_sum` and `_count`.
 *
 * @example
 * ```ts
 * prometheusNamesOf({ name: "stocklet.saga.started", kind: "counter", unit: "{order}", … });
 * // → ["stocklet_saga_started_total"]
 * ```
 */
export function prometheusNamesOf(i: Pick<Instrument, "name" | "kind" | "unit">): string[] {
  let base = i.name.replace(/[^a-zA-Z0-9_]/g, "_");
  const suffix = UNIT_SUFFIX[i.unit];
  if (suffix && !base.endsWith(`_${suffix}`)) base += `_${suffix}`;
  if (i.kind === "counter") return [`${base}_total`];
  if (i.kind === "histogram") return ["bucket", "sum", "count"].map((x) => `${base}_${x}`);
  return [base];
}

/** Series names a PromQL expression reads (identifiers followed by a selector, `[` or `)`). */
export function seriesNamesIn(expr: string): string[] {
  const names = new Set<string>();
  const keywords = new Set([
    "sum",
    "max",
    "min",
    "avg",
    "count",
    "rate",
    "increase",
    "irate",
    "histogram_quantile",
    "label_values",
    "by",
    "without",
    "on",
    "ignoring",
    "and",
    "or",
    "unless",
    "le",
    "humanizePercentage",
  ]);
  // Strip strings, label matchers and ranges, whose contents are not series.
  const bare = expr.replace(/"[^"]*"/g, '""').replace(/\{[^}]*\}/g, "{}").replace(
    /\[[^\]]*\]/g,
    "[]",
  ).replace(
    /by \([^)]*\)/g,
    "by ()",
  );
  for (const m of bare.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()/g)) {
    const id = m[1]!;
    if (keywords.has(id) || id.startsWith("$")) continue;
    if (/^\d/.test(id) || /^(s|m|h|d)$/.test(id)) continue;
    names.add(id);
  }
  return [...names];
}
