/**
 * NetworkPolicies: our pods (services, init Jobs, the edge, the collector) deny everything but
 * DNS by default; then each flow the code makes is let through on its port, and nothing else.
 * Only the edge is reachable from outside; a service reaches auth's JWKS, the services it calls
 * (shared/topology.ts `CALLS`), Kafka when it consumes, the collector, a server outside the
 * cluster where it must (the notification service's mail server), and — in the database
 * components — its own database only, whose pods in turn admit only the services it holds, the
 * relays' init Jobs, Connect and CloudNativePG. The operators' own pods (Kafka, Connect,
 * Postgres) keep their operators' policies.
 * @module
 */
import {
  CALLS,
  callsOf,
  DATABASE_OWNERS,
  relaysOf,
  type ServiceName,
  SERVICES,
  type ServiceSpec,
  serviceSpec,
  WEB,
} from "@stocklet/shared/topology";
import {
  CNPG_OPERATOR_NAMESPACE,
  CNPG_PORTS,
  COLLECTOR,
  COLLECTOR_PORTS,
  COMPONENT,
  type DatabaseLayout,
  EDGE,
  KAFKA_PORT,
  PROMETHEUS_PODS,
  relayClusterOf,
  SMTP_PORTS,
  STRIMZI_PODS,
} from "./names.ts";
import type { Manifest } from "./yaml.ts";

const PART_OF = { "app.kubernetes.io/part-of": "stocklet" };

function tcp(...ports: number[]): Manifest[] {
  return ports.map((port) => ({ protocol: "TCP", port }));
}

function pods(labels: Record<string, string>): Manifest {
  return { podSelector: { matchLabels: labels } };
}

/** The pods of one of our workloads. */
function ours(name: string, component?: string): Manifest {
  return pods({
    "app.kubernetes.io/name": name,
    ...(component ? { "app.kubernetes.io/component": component } : {}),
    ...PART_OF,
  });
}

function policy(
  name: string,
  selector: Manifest,
  rules: { ingress?: Manifest[]; egress?: Manifest[] },
): Manifest {
  const policyTypes = [
    ...(rules.ingress ? ["Ingress"] : []),
    ...(rules.egress ? ["Egress"] : []),
  ];
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name, labels: PART_OF },
    spec: { podSelector: selector, policyTypes, ...rules },
  };
}

/** Our pods: default deny, in and out, except DNS. */
export function defaultDeny(): Manifest {
  return policy("stocklet-default-deny", {
    matchLabels: PART_OF,
    matchExpressions: [{
      key: "app.kubernetes.io/component",
      operator: "In",
      values: Object.values(COMPONENT),
    }],
  }, {
    ingress: [],
    egress: [{
      to: [{
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
        podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
      }],
      ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }],
    }],
  });
}

/** The ports the Kubernetes API answers on: its Service's, and its servers' usual one. */
export const KUBERNETES_API_PORTS: readonly number[] = [443, 6443];

/** Any address (IPv4 and IPv6): a server outside the cluster, whose address we cannot know. */
const ANYWHERE: Manifest[] = [{ ipBlock: { cidr: "0.0.0.0/0" } }, { ipBlock: { cidr: "::/0" } }];

/**
 * The services that talk to servers outside the cluster, on these ports only: the notification
 * service sends the customers' emails through the mail server its Secret names.
 */
export const OUTSIDE_EGRESS: Readonly<Partial<Record<ServiceName, readonly number[]>>> = {
  notification: SMTP_PORTS,
};

/** Who calls a service, and on which port. */
function callersOf(spec: ServiceSpec): Array<{ from: Manifest; port: number }> {
  const out = [{ from: ours(EDGE, COMPONENT.edge), port: spec.httpPort }];
  if (spec.name === "auth") {
    // Every service (and the web front) verifies tokens against auth's JWKS.
    out.push({
      from: pods({ ...PART_OF, "app.kubernetes.io/component": COMPONENT.service }),
      port: spec.httpPort,
    });
  } else {
    // The web front reads pages through every REST gateway (auth's admits every service pod).
    out.push({ from: ours(WEB.name, COMPONENT.service), port: spec.httpPort });
  }
  for (const call of CALLS.filter((c) => c.to === spec.name)) {
    const port = call.over === "grpc" ? spec.grpcPort : spec.httpPort;
    out.push({ from: ours(call.from, COMPONENT.service), port });
  }
  return out;
}

/** A service's own flows (its database's are in the database component). */
export function servicePolicy(spec: ServiceSpec, consumes: boolean): Manifest {
  const auth = serviceSpec("auth");
  const egress: Manifest[] = [
    { to: [ours(auth.name, COMPONENT.service)], ports: tcp(auth.httpPort) },
    ...callsOf(spec.name).map((call) => {
      const callee = serviceSpec(call.to);
      return {
        to: [ours(callee.name, COMPONENT.service)],
        ports: tcp(call.over === "grpc" ? callee.grpcPort : callee.httpPort),
      };
    }),
    ...(consumes ? [{ to: [pods({ ...STRIMZI_PODS.brokers })], ports: tcp(KAFKA_PORT) }] : []),
    { to: [ours(COLLECTOR, COMPONENT.collector)], ports: tcp(COLLECTOR_PORTS.otlpHttp) },
    ...(OUTSIDE_EGRESS[spec.name]
      ? [{ to: ANYWHERE, ports: tcp(...OUTSIDE_EGRESS[spec.name]!) }]
      : []),
  ];
  return policy(spec.name, ours(spec.name, COMPONENT.service).podSelector as Manifest, {
    ingress: callersOf(spec).map((c) => ({ from: [c.from], ports: tcp(c.port) })),
    egress,
  });
}

/**
 * The web front: the edge calls it; it calls every service's REST gateway (auth's JWKS among
 * them), Kafka (its projection consumes) and the collector.
 */
export function webPolicy(): Manifest {
  return policy(WEB.name, ours(WEB.name, COMPONENT.service).podSelector as Manifest, {
    ingress: [{ from: [ours(EDGE, COMPONENT.edge)], ports: tcp(WEB.httpPort) }],
    egress: [
      ...SERVICES.map((s) => ({ to: [ours(s.name, COMPONENT.service)], ports: tcp(s.httpPort) })),
      { to: [pods({ ...STRIMZI_PODS.brokers })], ports: tcp(KAFKA_PORT) },
      { to: [ours(COLLECTOR, COMPONENT.collector)], ports: tcp(COLLECTOR_PORTS.otlpHttp) },
    ],
  });
}

/** The edge: anyone may call it; it calls the services and the web front, and sends traces. */
export function edgePolicy(listenPort: number): Manifest {
  return policy(EDGE, ours(EDGE, COMPONENT.edge).podSelector as Manifest, {
    ingress: [{ ports: tcp(listenPort) }],
    egress: [
      ...SERVICES.map((s) => ({ to: [ours(s.name, COMPONENT.service)], ports: tcp(s.httpPort) })),
      { to: [ours(WEB.name, COMPONENT.service)], ports: tcp(WEB.httpPort) },
      { to: [ours(COLLECTOR, COMPONENT.collector)], ports: tcp(COLLECTOR_PORTS.otlpGrpc) },
    ],
  });
}

/**
 * The collector: our pods send to it; Prometheus (the Prometheus operator's, in any namespace)
 * scrapes its exporter; it exports wherever its configuration says.
 */
export function collectorPolicy(): Manifest {
  return policy(COLLECTOR, ours(COLLECTOR, COMPONENT.collector).podSelector as Manifest, {
    ingress: [
      {
        from: [pods(PART_OF)],
        ports: tcp(COLLECTOR_PORTS.otlpGrpc, COLLECTOR_PORTS.otlpHttp),
      },
      {
        from: [{ namespaceSelector: {}, podSelector: { matchLabels: { ...PROMETHEUS_PODS } } }],
        ports: tcp(COLLECTOR_PORTS.metrics),
      },
    ],
    egress: [{}],
  });
}

/** Every policy of the base. */
export function basePolicies(consumers: ReadonlySet<string>, edgePort: number): Manifest[] {
  return [
    defaultDeny(),
    ...SERVICES.map((s) => servicePolicy(s, consumers.has(s.name))),
    webPolicy(),
    edgePolicy(edgePort),
    collectorPolicy(),
  ];
}

/**
 * A database layout's policies: each service (and its init Job) may reach its own cluster, each
 * relay's init Job its relay's; each cluster admits those, Connect (when a relay reads it), its
 * own instances (replication) and CloudNativePG's operator.
 */
export function databasePolicies(layout: DatabaseLayout): Manifest[] {
  const relays = relaysOf(layout.layout);
  const toCluster = (name: string, cluster: string) =>
    policy(`${name}-database`, ours(name).podSelector as Manifest, {
      egress: [{
        to: [pods({ "cnpg.io/cluster": cluster })],
        ports: tcp(CNPG_PORTS.postgres),
      }],
    });
  const out: Manifest[] = [
    ...DATABASE_OWNERS.map((s) => toCluster(s.name, layout.clusterOf(s.name))),
    ...relays.map((r) => toCluster(r.name, relayClusterOf(layout, r))),
    // The repair Jobs patch their connectors through the Kubernetes API, which is no pod: its
    // address is the cluster's (443 behind the `kubernetes` Service, 6443 on most API servers).
    policy(
      "relay-repair-kubernetes-api",
      pods({ ...PART_OF, "app.kubernetes.io/component": COMPONENT.relayRepair })
        .podSelector as Manifest,
      { egress: [{ to: ANYWHERE, ports: tcp(...KUBERNETES_API_PORTS) }] },
    ),
  ];
  const clusters = [...new Set(DATABASE_OWNERS.map((s) => layout.clusterOf(s.name)))];
  for (const cluster of clusters) {
    const held = DATABASE_OWNERS.filter((s) => layout.clusterOf(s.name) === cluster);
    const read = relays.filter((r) => relayClusterOf(layout, r) === cluster);
    const clients = [
      ...held.map((s) => ours(s.name)),
      ...read.map((r) => ours(r.name)),
      ...(read.length ? [pods({ ...STRIMZI_PODS.connect })] : []),
    ];
    out.push(policy(cluster, { matchLabels: { "cnpg.io/cluster": cluster } }, {
      ingress: [
        { from: clients, ports: tcp(CNPG_PORTS.postgres) },
        {
          from: [pods({ "cnpg.io/cluster": cluster })],
          ports: tcp(CNPG_PORTS.postgres, CNPG_PORTS.status),
        },
        {
          from: [{
            namespaceSelector: {
              matchLabels: { "kubernetes.io/metadata.name": CNPG_OPERATOR_NAMESPACE },
            },
          }],
          ports: tcp(CNPG_PORTS.postgres, CNPG_PORTS.status),
        },
      ],
    }));
  }
  return out;
}
