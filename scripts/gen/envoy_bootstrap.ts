/**
 * Reading an Envoy bootstrap (deploy/envoy/envoy.yaml) back: the ports it listens on and the
 * upstream addresses of its clusters, for the deployments' generators and tests.
 * @module
 */
import { parse } from "yaml";

interface SocketAddress {
  socket_address: { address: string; port_value: number };
}

interface Bootstrap {
  admin: { address: SocketAddress };
  static_resources: {
    listeners: Array<{ address: SocketAddress }>;
    clusters: Array<{
      name: string;
      load_assignment: {
        endpoints: Array<{ lb_endpoints: Array<{ endpoint: { address: SocketAddress } }> }>;
      };
    }>;
  };
}

/** The ports an Envoy bootstrap listens on: its (one) listener and its admin interface. */
export function envoyPorts(envoyYaml: string): { listener: number; admin: number } {
  const cfg = parse(envoyYaml) as Bootstrap;
  const listeners = cfg.static_resources.listeners;
  if (listeners.length !== 1) {
    throw new Error(`expected one Envoy listener, got ${listeners.length}`);
  }
  return {
    listener: listeners[0]!.address.socket_address.port_value,
    admin: cfg.admin.address.socket_address.port_value,
  };
}

/** Every upstream address of an Envoy bootstrap's static clusters. */
export function envoyUpstreams(
  envoyYaml: string,
): Array<{ cluster: string; host: string; port: number }> {
  const cfg = parse(envoyYaml) as Bootstrap;
  return cfg.static_resources.clusters.flatMap((c) =>
    c.load_assignment.endpoints.flatMap((e) => e.lb_endpoints).map((l) => ({
      cluster: c.name,
      host: l.endpoint.address.socket_address.address,
      port: l.endpoint.address.socket_address.port_value,
    }))
  );
}
