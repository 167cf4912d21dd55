/**
 * A small model of Kubernetes NetworkPolicy semantics, to check offline that the rendered
 * policies let every flow the wiring makes through and stop the ones they should. A connection
 * is allowed when the source's egress policies allow it (or none select the source) and the
 * destination's ingress policies allow it (or none select it). Peers are pod and namespace
 * selectors; an `ipBlock` is taken to match only clients outside the cluster (pod IPs are not
 * modelled); ports are numeric.
 *
 * @example
 * ```ts
 * const model = new NetworkModel(policies);
 * model.allows(pod("stocklet", { "app.kubernetes.io/name": "auth" }), userPod, 9196); // true
 * ```
 * @module
 */
import type { K8sObject } from "./validate.ts";

/** A pod (its namespace and labels), or a client outside the cluster. */
export type Endpoint =
  | { kind: "pod"; namespace: string; labels: Record<string, string>; name: string }
  | { kind: "outside"; name: string };

/** A pod endpoint. */
export function pod(namespace: string, labels: Record<string, string>, name?: string): Endpoint {
  return { kind: "pod", namespace, labels, name: name ?? labels["app.kubernetes.io/name"] ?? "?" };
}

/** A client on the internet. */
export const OUTSIDE: Endpoint = { kind: "outside", name: "outside" };

interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

interface Peer {
  podSelector?: Selector;
  namespaceSelector?: Selector;
  ipBlock?: { cidr: string };
}

interface Rule {
  from?: Peer[];
  to?: Peer[];
  ports?: Array<{ protocol?: string; port?: number | string; endPort?: number }>;
}

interface PolicySpec {
  podSelector: Selector;
  policyTypes?: string[];
  ingress?: Rule[];
  egress?: Rule[];
}

/** Whether labels satisfy a label selector (an empty selector matches everything). */
export function matches(selector: Selector, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[k] !== v) return false;
  }
  for (const e of selector.matchExpressions ?? []) {
    const has = e.key in labels;
    const inValues = has && (e.values ?? []).includes(labels[e.key]!);
    const ok = e.operator === "In"
      ? inValues
      : e.operator === "NotIn"
      ? !inValues
      : e.operator === "Exists"
      ? has
      : e.operator === "DoesNotExist"
      ? !has
      : (() => {
        throw new Error(`unknown selector operator ${e.operator}`);
      })();
    if (!ok) return false;
  }
  return true;
}

/** NetworkPolicies and the question whether one endpoint may open a connection to another. */
export class NetworkModel {
  readonly #policies: Array<{ namespace: string; spec: PolicySpec }>;

  constructor(policies: readonly K8sObject[], defaultNamespace = "default") {
    this.#policies = policies.filter((p) => p.kind === "NetworkPolicy").map((p) => ({
      namespace: p.metadata.namespace ?? defaultNamespace,
      spec: p.spec as PolicySpec,
    }));
  }

  #selecting(ep: Endpoint, type: "Ingress" | "Egress") {
    if (ep.kind !== "pod") return [];
    return this.#policies.filter((p) =>
      p.namespace === ep.namespace && matches(p.spec.podSelector, ep.labels) &&
      (p.spec.policyTypes ?? ["Ingress", ...(p.spec.egress ? ["Egress"] : [])]).includes(type)
    );
  }

  #peerMatches(peer: Peer, policyNamespace: string, ep: Endpoint): boolean {
    if (peer.ipBlock) return ep.kind === "outside";
    if (ep.kind !== "pod") return false;
    const nsOk = peer.namespaceSelector
      ? matches(peer.namespaceSelector, { "kubernetes.io/metadata.name": ep.namespace })
      : ep.namespace === policyNamespace;
    const podOk = peer.podSelector ? matches(peer.podSelector, ep.labels) : true;
    return nsOk && podOk;
  }

  #portMatches(rule: Rule, port: number, protocol: string): boolean {
    if (!rule.ports?.length) return true;
    return rule.ports.some((p) => {
      if ((p.protocol ?? "TCP") !== protocol) return false;
      if (p.port === undefined) return true;
      if (typeof p.port !== "number") throw new Error(`named port ${p.port} is not modelled`);
      return p.endPort ? port >= p.port && port <= p.endPort : port === p.port;
    });
  }

  #allowedBy(
    policies: Array<{ namespace: string; spec: PolicySpec }>,
    direction: "ingress" | "egress",
    peer: Endpoint,
    port: number,
    protocol: string,
  ): boolean {
    if (!policies.length) return true;
    return policies.some(({ namespace, spec }) =>
      (spec[direction] ?? []).some((rule) => {
        const peers = direction === "ingress" ? rule.from : rule.to;
        const peerOk = !peers?.length || peers.some((p) => this.#peerMatches(p, namespace, peer));
        return peerOk && this.#portMatches(rule, port, protocol);
      })
    );
  }

  /** Whether `src` may connect to `dst` on `port`. */
  allows(src: Endpoint, dst: Endpoint, port: number, protocol = "TCP"): boolean {
    return this.#allowedBy(this.#selecting(src, "Egress"), "egress", dst, port, protocol) &&
      this.#allowedBy(this.#selecting(dst, "Ingress"), "ingress", src, port, protocol);
  }
}
