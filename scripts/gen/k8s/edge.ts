/**
 * The edge and the collector on Kubernetes: Envoy with the generated deploy/envoy/envoy.yaml (the
 * same file compose mounts; its clusters name the services' Services, `order:8092`, which resolve
 * in the namespace), and the OpenTelemetry collector Envoy and the services send to.
 * @module
 */
import { envoyPorts } from "../envoy_bootstrap.ts";
import { COLLECTOR_METRICS_PORT } from "../prometheus_k8s.ts";
import {
  COLLECTOR,
  COLLECTOR_IMAGE,
  COLLECTOR_PORTS,
  COMPONENT,
  EDGE,
  EDGE_IMAGE,
  podLabels,
  RUN_AS,
  selectorOf,
} from "./names.ts";
import type { Profile } from "./profiles.ts";
import { SHUTDOWN } from "./profiles.ts";
import {
  autoscaler,
  containerSecurity,
  disruptionBudget,
  podSecurity,
  spread,
} from "./workloads.ts";
import type { Manifest } from "./yaml.ts";

/** The ConfigMaps kustomize generates from files next to the base's kustomization. */
export const CONFIG_FILES = {
  envoy: { configMap: "envoy", file: "envoy.yaml", mountPath: "/etc/envoy" },
  collector: {
    configMap: "otel-collector",
    file: "config.yaml",
    mountPath: "/etc/otelcol-contrib",
  },
} as const;

/**
 * Envoy's preStop: drain the listeners gracefully through the admin API (in-flight requests
 * finish, connections are closed as they go idle), while the pod leaves the Service's endpoints.
 * Bash's /dev/tcp does the POST: the image has no HTTP client.
 */
function envoyPreStop(adminPort: number): string[] {
  const request = "POST /drain_listeners?graceful HTTP/1.1\\r\\nHost: localhost\\r\\n" +
    "Content-Length: 0\\r\\nConnection: close\\r\\n\\r\\n";
  return [
    "/bin/bash",
    "-c",
    `exec 3<>/dev/tcp/127.0.0.1/${adminPort} && printf '${request}' >&3; ` +
    `sleep ${Math.max(SHUTDOWN.preStop, SHUTDOWN.edgeDrain)}`,
  ];
}

/** Envoy's Deployment, Service (port 80), autoscaler and disruption budget. */
export function edgeManifests(profile: Profile, envoyYaml: string): Manifest[] {
  const { listener, admin } = envoyPorts(envoyYaml);
  const labels = podLabels(EDGE, COMPONENT.edge);
  const selector = selectorOf(EDGE, COMPONENT.edge);
  const deployment = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: EDGE, labels },
    spec: {
      selector: { matchLabels: selector },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels },
        spec: {
          // No pod of ours but the relays' repair Jobs talks to the Kubernetes API.
          automountServiceAccountToken: false,
          securityContext: podSecurity(RUN_AS.envoy),
          terminationGracePeriodSeconds: SHUTDOWN.edge,
          topologySpreadConstraints: spread(selector),
          containers: [{
            name: "envoy",
            image: EDGE_IMAGE,
            imagePullPolicy: "IfNotPresent",
            args: [
              "-c",
              `${CONFIG_FILES.envoy.mountPath}/${CONFIG_FILES.envoy.file}`,
              "--drain-time-s",
              String(SHUTDOWN.edgeDrain),
              "--log-level",
              "info",
            ],
            ports: [{ name: "http", containerPort: listener, protocol: "TCP" }],
            // deploy/envoy/envoy.yaml answers /healthz itself (no upstream involved).
            readinessProbe: {
              httpGet: { path: "/healthz", port: "http" },
              periodSeconds: 5,
              failureThreshold: 2,
            },
            livenessProbe: {
              httpGet: { path: "/healthz", port: "http" },
              periodSeconds: 10,
              failureThreshold: 3,
            },
            lifecycle: { preStop: { exec: { command: envoyPreStop(admin) } } },
            resources: profile.edge.resources,
            securityContext: containerSecurity(),
            volumeMounts: [{
              name: "config",
              mountPath: CONFIG_FILES.envoy.mountPath,
              readOnly: true,
            }],
          }],
          volumes: [{ name: "config", configMap: { name: CONFIG_FILES.envoy.configMap } }],
        },
      },
    },
  };
  const service = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: EDGE, labels },
    spec: {
      type: "ClusterIP",
      selector,
      ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }],
    },
  };
  return [
    deployment,
    service,
    autoscaler(EDGE, profile.edge, labels),
    disruptionBudget(EDGE, selector, labels),
  ];
}

/**
 * The collector's configuration: OTLP in (gRPC from Envoy, HTTP from the services), memory-
 * limited batches out. Metrics go to its Prometheus exporter (as compose's collector: the same
 * settings, deploy/docker/otel-collector.yaml), which the Prometheus operator scrapes (the
 * monitoring component's ServiceMonitor); traces and logs only to its own log: point an exporter
 * at your tracing backend (patch the `otel-collector` ConfigMap).
 */
export function collectorConfig(): Manifest {
  const pipeline = (exporter: string) => ({
    receivers: ["otlp"],
    processors: ["memory_limiter", "batch"],
    exporters: [exporter],
  });
  return {
    extensions: { health_check: { endpoint: `0.0.0.0:${COLLECTOR_PORTS.health}` } },
    receivers: {
      otlp: {
        protocols: {
          grpc: { endpoint: `0.0.0.0:${COLLECTOR_PORTS.otlpGrpc}` },
          http: { endpoint: `0.0.0.0:${COLLECTOR_PORTS.otlpHttp}` },
        },
      },
    },
    processors: {
      memory_limiter: { check_interval: "1s", limit_percentage: 80, spike_limit_percentage: 20 },
      batch: {},
    },
    exporters: {
      debug: { verbosity: "basic" },
      prometheus: {
        endpoint: `0.0.0.0:${COLLECTOR_PORTS.metrics}`,
        // A process that stopped exporting (a replica scaled down) disappears after this.
        metric_expiration: "5m",
      },
    },
    service: {
      extensions: ["health_check"],
      pipelines: {
        traces: pipeline("debug"),
        metrics: pipeline("prometheus"),
        logs: pipeline("debug"),
      },
    },
  };
}

/** The collector's Deployment, Service, autoscaler and disruption budget. */
export function collectorManifests(profile: Profile): Manifest[] {
  const labels = podLabels(COLLECTOR, COMPONENT.collector);
  const selector = selectorOf(COLLECTOR, COMPONENT.collector);
  const deployment = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: COLLECTOR, labels },
    spec: {
      selector: { matchLabels: selector },
      template: {
        metadata: { labels },
        spec: {
          // No pod of ours but the relays' repair Jobs talks to the Kubernetes API.
          automountServiceAccountToken: false,
          securityContext: podSecurity(RUN_AS.collector),
          topologySpreadConstraints: spread(selector),
          containers: [{
            name: "otel-collector",
            image: COLLECTOR_IMAGE,
            imagePullPolicy: "IfNotPresent",
            args: [`--config=${CONFIG_FILES.collector.mountPath}/${CONFIG_FILES.collector.file}`],
            ports: [
              { name: "otlp-grpc", containerPort: COLLECTOR_PORTS.otlpGrpc, protocol: "TCP" },
              { name: "otlp-http", containerPort: COLLECTOR_PORTS.otlpHttp, protocol: "TCP" },
              {
                name: COLLECTOR_METRICS_PORT.name,
                containerPort: COLLECTOR_PORTS.metrics,
                protocol: "TCP",
              },
              { name: "health", containerPort: COLLECTOR_PORTS.health, protocol: "TCP" },
            ],
            readinessProbe: { httpGet: { path: "/", port: "health" }, periodSeconds: 5 },
            livenessProbe: { httpGet: { path: "/", port: "health" }, periodSeconds: 10 },
            resources: profile.collector.resources,
            securityContext: containerSecurity(),
            volumeMounts: [{
              name: "config",
              mountPath: CONFIG_FILES.collector.mountPath,
              readOnly: true,
            }],
          }],
          volumes: [{ name: "config", configMap: { name: CONFIG_FILES.collector.configMap } }],
        },
      },
    },
  };
  const service = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: COLLECTOR, labels },
    spec: {
      selector,
      ports: [
        {
          name: "otlp-grpc",
          port: COLLECTOR_PORTS.otlpGrpc,
          targetPort: "otlp-grpc",
          protocol: "TCP",
          appProtocol: "grpc",
        },
        {
          name: "otlp-http",
          port: COLLECTOR_PORTS.otlpHttp,
          targetPort: "otlp-http",
          protocol: "TCP",
        },
        {
          name: COLLECTOR_METRICS_PORT.name,
          port: COLLECTOR_PORTS.metrics,
          targetPort: COLLECTOR_METRICS_PORT.name,
          protocol: "TCP",
        },
      ],
    },
  };
  return [
    deployment,
    service,
    autoscaler(COLLECTOR, profile.collector, labels),
    disruptionBudget(COLLECTOR, selector, labels),
  ];
}
