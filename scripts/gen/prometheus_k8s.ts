/**
 * What a Kubernetes deployment with the Prometheus operator needs to carry Stocklet's metrics and
 * alerts, for the Kubernetes manifests' generator to include: a `ServiceMonitor` that scrapes the
 * OpenTelemetry collector's Prometheus exporter (the collector's Service must expose a port named
 * `metrics` on 8889, and its configuration export metrics with `prometheus` as in
 * deploy/docker/otel-collector.yaml), and a `PrometheusRule` with the alert rules of
 * deploy/prometheus/alerts.yaml (the same file the compose Prometheus loads).
 * @module
 */
import { join } from "node:path";
import { parse } from "yaml";
import { ROOT } from "../lib/paths.ts";

/** The collector's Prometheus exporter port and its name on the collector's Service. */
export const COLLECTOR_METRICS_PORT = { name: "metrics", port: 8889 } as const;

/** Options of {@linkcode prometheusOperatorManifests}. */
export interface PrometheusOperatorOptions {
  namespace: string;
  /** Labels that select the collector's Service. */
  collectorSelector: Record<string, string>;
  /** Labels the operator's Prometheus selects rules and monitors by. @default {} */
  labels?: Record<string, string>;
}

/** The ServiceMonitor and the PrometheusRule, as objects to render into YAML. */
export async function prometheusOperatorManifests(
  opts: PrometheusOperatorOptions,
): Promise<Array<Record<string, unknown>>> {
  const rules = parse(
    await Deno.readTextFile(join(ROOT, "deploy", "prometheus", "alerts.yaml")),
  ) as { groups: unknown[] };
  const labels = { "app.kubernetes.io/part-of": "stocklet", ...opts.labels };
  return [
    {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "ServiceMonitor",
      metadata: { name: "stocklet-otel-collector", namespace: opts.namespace, labels },
      spec: {
        selector: { matchLabels: opts.collectorSelector },
        endpoints: [{
          port: COLLECTOR_METRICS_PORT.name,
          interval: "10s",
          // The exporter labels each series with its service (job) and instance itself.
          honorLabels: true,
        }],
      },
    },
    {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "PrometheusRule",
      metadata: { name: "stocklet-alerts", namespace: opts.namespace, labels },
      spec: { groups: rules.groups },
    },
  ];
}
