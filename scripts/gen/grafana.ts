/**
 * The Grafana dashboards of the compose deployment, kept as JSON in `deploy/grafana/dashboards/`
 * and generated here (`deno task gen`) so every panel is written the same way: the service
 * overview (RED per service, transport, method and status; the edge per route with its cache and
 * 429s; memory, event-loop delay and the database pool), the saga (orders per second by outcome
 * and reason, place → terminal percentiles) and the Kafka consumers (events by outcome, lag per
 * topic, dead letters, retries, each hop's stages, the outboxes). The PromQL names are the
 * OpenTelemetry instruments' as the collector's Prometheus exporter writes them (dots → `_`,
 * `_seconds`/`_bytes` for the unit, `_total` for counters); the job label is `service.name`.
 * @module
 */
import { denoFmt } from "./fmt.ts";

/** The datasource the provisioning creates (deploy/grafana/provisioning/datasources/). */
export const DATASOURCE = { type: "prometheus", uid: "prometheus" } as const;

interface Target {
  expr: string;
  legend: string;
}

interface PanelSpec {
  title: string;
  /** Grafana's unit (`reqps`, `percentunit`, `s`, `bytes`, `short`). */
  unit: string;
  targets: Target[];
  /** `timeseries` (default) or `stat`. */
  type?: "timeseries" | "stat";
  description?: string;
  /** Width in grid columns (of 24). @default 12 */
  w?: number;
}

/** A dashboard's content before layout. */
export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  /** Template variables over the job label (`service`). */
  serviceVariable?: { query: string };
  panels: PanelSpec[];
}

const rate = (expr: string) => `rate(${expr}[$__rate_interval])`;
const q = (quantile: number, by: string, bucket: string) =>
  `histogram_quantile(${quantile}, sum by (${by}le) (${rate(bucket)}))`;

const RPC = "rpc_server_call_duration_seconds";
const EDGE = "http_server_request_duration_seconds";
/** The edge's own measurements (Deno's runtime records the same name without a route). */
const EDGE_SEL = `{job="edge", http_route!=""}`;
const CONSUMED = "messaging_client_consumed_messages_total";
/**
 * A group's lag per partition: every replica of a service reports its group's lag for every
 * partition, so the partitions are deduplicated (their largest report) before anything is summed.
 */
const LAG_PER_PARTITION = (selector: string) =>
  `max by (job, messaging_destination_name, messaging_destination_partition_id) ` +
  `(stocklet_consumer_lag${selector})`;

/** The three dashboards. */
export const DASHBOARDS: readonly DashboardSpec[] = [
  {
    uid: "stocklet-services",
    title: "Stocklet — services",
    description: "Rate, errors and duration of every service's RPCs (gRPC and REST) and the edge",
    serviceVariable: { query: `label_values(${RPC}_count, job)` },
    panels: [
      {
        title: "Requests per second by service",
        unit: "reqps",
        targets: [
          { expr: `sum by (job) (${rate(`${RPC}_count`)})`, legend: "{{job}}" },
          { expr: `sum(${rate(`${EDGE}_count${EDGE_SEL}`)})`, legend: "edge" },
        ],
      },
      {
        title: "Failed requests (server side) by service",
        unit: "percentunit",
        description: "Calls that ended with a server-side status (error.type set) over all calls",
        targets: [{
          expr: `sum by (job) (${rate(`${RPC}_count{error_type!=""}`)}) / sum by (job) (${
            rate(`${RPC}_count`)
          })`,
          legend: "{{job}}",
        }],
      },
      {
        title: "p99 duration by service",
        unit: "s",
        targets: [
          { expr: q(0.99, "job, ", `${RPC}_bucket`), legend: "{{job}}" },
          { expr: q(0.99, "", `${EDGE}_bucket${EDGE_SEL}`), legend: "edge" },
        ],
      },
      {
        title: "Requests by status ($service)",
        unit: "reqps",
        targets: [{
          expr: `sum by (rpc_response_status_code) (${rate(`${RPC}_count{job=~"$service"}`)})`,
          legend: "{{rpc_response_status_code}}",
        }],
      },
      {
        title: "Requests by transport ($service)",
        unit: "reqps",
        description: "grpc: the gRPC server; http: the REST gateway (same handlers)",
        targets: [{
          expr: `sum by (rpc_system_name) (${rate(`${RPC}_count{job=~"$service"}`)})`,
          legend: "{{rpc_system_name}}",
        }],
      },
      {
        title: "p99 duration by method ($service)",
        unit: "s",
        targets: [{
          expr: q(0.99, "rpc_method, ", `${RPC}_bucket{job=~"$service"}`),
          legend: "{{rpc_method}}",
        }],
      },
      {
        title: "Edge: requests per second by route",
        unit: "reqps",
        targets: [{
          expr: `sum by (http_route) (${rate(`${EDGE}_count${EDGE_SEL}`)})`,
          legend: "{{http_route}}",
        }],
      },
      {
        title: "Edge: p99 by route",
        unit: "s",
        targets: [{
          expr: q(0.99, "http_route, ", `${EDGE}_bucket${EDGE_SEL}`),
          legend: "{{http_route}}",
        }],
      },
      {
        title: "Edge: cache hit ratio and rate-limited requests",
        unit: "short",
        targets: [
          {
            expr: `sum(${
              rate(`stocklet_edge_cache_requests_total{stocklet_cache_result="hit"}`)
            }) / sum(${rate("stocklet_edge_cache_requests_total")})`,
            legend: "cache hit ratio",
          },
          { expr: `sum(${rate("stocklet_edge_rate_limited_total")})`, legend: "429/s" },
        ],
      },
      {
        title: "Resident memory",
        unit: "bytes",
        targets: [{ expr: "sum by (job) (process_memory_usage_bytes)", legend: "{{job}}" }],
      },
      {
        title: "Event-loop delay p99",
        unit: "s",
        targets: [{
          expr: q(0.99, "job, ", "stocklet_eventloop_delay_seconds_bucket"),
          legend: "{{job}}",
        }],
      },
      {
        title: "Database pool: connections in use and transactions waiting",
        unit: "short",
        targets: [
          { expr: "sum by (job) (db_client_connection_count)", legend: "{{job}} in use" },
          {
            expr: "sum by (job) (db_client_connection_pending_requests)",
            legend: "{{job}} waiting",
          },
        ],
      },
    ],
  },
  {
    uid: "stocklet-saga",
    title: "Stocklet — place-order saga",
    description: "Orders placed, approved, rejected (by reason) and cancelled; place → terminal",
    panels: [
      {
        title: "Orders placed per second",
        unit: "short",
        type: "stat",
        w: 6,
        targets: [{ expr: `sum(${rate("stocklet_saga_started_total")})`, legend: "placed" }],
      },
      {
        title: "Approved per second",
        unit: "short",
        type: "stat",
        w: 6,
        targets: [{
          expr: `sum(${rate(`stocklet_saga_completed_total{stocklet_saga_outcome="approved"}`)})`,
          legend: "approved",
        }],
      },
      {
        title: "Rejected share",
        unit: "percentunit",
        type: "stat",
        w: 6,
        targets: [{
          expr: `sum(${
            rate(`stocklet_saga_completed_total{stocklet_saga_outcome="rejected"}`)
          }) / sum(${rate("stocklet_saga_completed_total")})`,
          legend: "rejected",
        }],
      },
      {
        title: "Place → terminal p99",
        unit: "s",
        type: "stat",
        w: 6,
        targets: [{ expr: q(0.99, "", "stocklet_saga_duration_seconds_bucket"), legend: "p99" }],
      },
      {
        title: "Sagas ended per second by outcome",
        unit: "short",
        targets: [
          { expr: `sum(${rate("stocklet_saga_started_total")})`, legend: "placed" },
          {
            expr: `sum by (stocklet_saga_outcome) (${rate("stocklet_saga_completed_total")})`,
            legend: "{{stocklet_saga_outcome}}",
          },
        ],
      },
      {
        title: "Rejections per second by reason",
        unit: "short",
        targets: [{
          expr: `sum by (stocklet_saga_reason) (${
            rate(`stocklet_saga_completed_total{stocklet_saga_outcome="rejected"}`)
          })`,
          legend: "{{stocklet_saga_reason}}",
        }],
      },
      {
        title: "Place → terminal (p50, p95, p99)",
        unit: "s",
        targets: [0.5, 0.95, 0.99].map((x) => ({
          expr: q(x, "", "stocklet_saga_duration_seconds_bucket"),
          legend: `p${Math.round(x * 100)}`,
        })),
      },
      {
        title: "Place → terminal p99 by outcome",
        unit: "s",
        targets: [{
          expr: q(0.99, "stocklet_saga_outcome, ", "stocklet_saga_duration_seconds_bucket"),
          legend: "{{stocklet_saga_outcome}}",
        }],
      },
      {
        title: "PlaceOrder refused (429, admission control) and failed",
        unit: "reqps",
        targets: [{
          expr: `sum by (rpc_response_status_code) (${
            rate(
              `${RPC}_count{rpc_method="stocklet.order.v1.OrderService/PlaceOrder", rpc_response_status_code!="OK"}`,
            )
          })`,
          legend: "{{rpc_response_status_code}}",
        }],
      },
      {
        title: "One event's hop: outbox commit → applied (p99 by topic)",
        unit: "s",
        targets: [{
          expr: q(
            0.99,
            "messaging_destination_name, ",
            "stocklet_event_hop_duration_seconds_bucket",
          ),
          legend: "{{messaging_destination_name}}",
        }],
      },
    ],
  },
  {
    uid: "stocklet-consumers",
    title: "Stocklet — Kafka consumers and outboxes",
    description: "Events handled by outcome, lag per topic-partition, dead letters, retries, hops",
    serviceVariable: { query: `label_values(${CONSUMED}, job)` },
    panels: [
      {
        title: "Events per second by outcome ($service)",
        unit: "short",
        targets: [{
          expr: `sum by (job, stocklet_outcome) (${rate(`${CONSUMED}{job=~"$service"}`)})`,
          legend: "{{job}} {{stocklet_outcome}}",
        }],
      },
      {
        title: "Consumer lag by topic ($service)",
        unit: "short",
        description:
          "End offset − committed offset, summed over partitions (each replica reports the " +
          "group's lag: the largest report per partition counts, once)",
        targets: [{
          expr: `sum by (job, messaging_destination_name) (${
            LAG_PER_PARTITION(`{job=~"$service"}`)
          })`,
          legend: "{{job}} ← {{messaging_destination_name}}",
        }],
      },
      {
        title: "Dead letters (last 15 minutes)",
        unit: "short",
        targets: [{
          expr:
            `sum by (job, messaging_destination_name) (increase(${CONSUMED}{stocklet_outcome="dead_lettered"}[15m]))`,
          legend: "{{job}} ← {{messaging_destination_name}}",
        }],
      },
      {
        title: "Retries per second by kind",
        unit: "short",
        targets: [{
          expr: `sum by (job, stocklet_retry_kind) (${rate("stocklet_consumer_retries_total")})`,
          legend: "{{job}} {{stocklet_retry_kind}}",
        }],
      },
      {
        title: "An event's hop p99: relay (outbox → Kafka), delivery, apply, whole",
        unit: "s",
        targets: [
          { expr: q(0.99, "", "stocklet_event_relay_duration_seconds_bucket"), legend: "relay" },
          {
            expr: q(0.99, "", "stocklet_event_delivery_duration_seconds_bucket"),
            legend: "delivery",
          },
          { expr: q(0.99, "", "messaging_process_duration_seconds_bucket"), legend: "apply" },
          { expr: q(0.99, "", "stocklet_event_hop_duration_seconds_bucket"), legend: "whole hop" },
        ],
      },
      {
        title: "Events per transaction (round size p50, p99)",
        unit: "short",
        targets: [0.5, 0.99].map((x) => ({
          expr: q(x, "job, ", "stocklet_consumer_batch_size_bucket"),
          legend: `{{job}} p${Math.round(x * 100)}`,
        })),
      },
      {
        title: "Outbox rows waiting for the relay",
        unit: "short",
        // Every replica of a service reports the same table: its largest report, not their sum.
        targets: [{ expr: "max by (job) (stocklet_outbox_pending)", legend: "{{job}}" }],
      },
      {
        title: "Outbox: oldest waiting row, relay lag",
        unit: "s",
        targets: [
          {
            expr: "max by (job) (stocklet_outbox_oldest_age_seconds)",
            legend: "{{job}} oldest row",
          },
          { expr: "max by (job) (stocklet_outbox_relay_lag_seconds)", legend: "{{job}} relay lag" },
        ],
      },
    ],
  },
];

/** A dashboard in Grafana's JSON model (schema 39). */
export function dashboardJson(spec: DashboardSpec): Record<string, unknown> {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  const panels = spec.panels.map((p, i) => {
    const w = p.w ?? 12;
    const h = p.type === "stat" ? 4 : 8;
    if (x + w > 24) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    const gridPos = { x, y, w, h };
    x += w;
    rowHeight = Math.max(rowHeight, h);
    return {
      id: i + 1,
      type: p.type ?? "timeseries",
      title: p.title,
      ...(p.description ? { description: p.description } : {}),
      datasource: DATASOURCE,
      gridPos,
      fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
      options: p.type === "stat"
        ? { reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false } }
        : { legend: { displayMode: "list", placement: "bottom", showLegend: true } },
      targets: p.targets.map((t, k) => ({
        refId: String.fromCharCode(65 + k),
        datasource: DATASOURCE,
        expr: t.expr,
        legendFormat: t.legend,
      })),
    };
  });
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: ["stocklet"],
    editable: true,
    schemaVersion: 39,
    version: 1,
    refresh: "10s",
    time: { from: "now-30m", to: "now" },
    timezone: "browser",
    templating: {
      list: spec.serviceVariable
        ? [{
          name: "service",
          label: "service",
          type: "query",
          datasource: DATASOURCE,
          query: { query: spec.serviceVariable.query, refId: "service" },
          definition: spec.serviceVariable.query,
          includeAll: true,
          multi: true,
          current: { selected: true, text: ["All"], value: ["$__all"] },
          refresh: 2,
          sort: 1,
        }]
        : [],
    },
    panels,
  };
}

/** The file of a dashboard, relative to the repository. */
export function dashboardPath(spec: DashboardSpec): string {
  return `deploy/grafana/dashboards/${spec.uid.replace(/^stocklet-/, "")}.json`;
}

/** A dashboard's file text. */
export async function renderDashboard(spec: DashboardSpec): Promise<string> {
  return await denoFmt(JSON.stringify(dashboardJson(spec), null, 2) + "\n", "json");
}
