/**
 * The little of the Kubernetes API a pod of ours needs: reading and merge-patching one object,
 * as the pod's service account (its token and the cluster's CA, which Kubernetes mounts into
 * every pod that has a service account token, and the API server's address from the
 * `KUBERNETES_SERVICE_HOST` / `_PORT` variables the kubelet sets).
 *
 * @example
 * ```ts
 * const api = await inClusterApi();
 * const k = await api.get(kafkaConnectorPath(api.namespace, "stocklet-outbox"));
 * ```
 * @module
 */
import { join } from "node:path";

/** Where Kubernetes mounts a pod's service account credentials. */
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** An object as the API returns it. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; annotations?: Record<string, string>; [key: string]: unknown };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

/** A failed API call: the status and the API's message. */
export class KubeApiError extends Error {
  override readonly name = "KubeApiError";
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** The calls the Kubernetes API answers for us. */
export interface KubeApi {
  /** The namespace of the pod (of its service account). */
  readonly namespace: string;
  /** GETs an object; `undefined` when there is none. */
  get(path: string): Promise<KubeObject | undefined>;
  /** Applies a JSON merge patch (RFC 7386: `null` removes a key); the patched object. */
  mergePatch(path: string, patch: Record<string, unknown>): Promise<KubeObject>;
}

/** The path of a Strimzi `KafkaConnector`. */
export function kafkaConnectorPath(namespace: string, name: string): string {
  return `/apis/kafka.strimzi.io/v1/namespaces/${namespace}/kafkaconnectors/${name}`;
}

/** Options of {@linkcode kubeApi}. */
export interface KubeApiOptions {
  /** `https://10.96.0.1:443`. */
  baseUrl: string;
  /** The bearer token. */
  token: string;
  namespace: string;
  /** A client that trusts the cluster's CA. */
  client?: Deno.HttpClient;
  /** Each call's timeout (ms). @default 10000 */
  timeoutMs?: number;
}

/** A client of the API at a given address (tests point it at a stand-in). */
export function kubeApi(opts: KubeApiOptions): KubeApi {
  const call = async (
    method: string,
    path: string,
    body?: unknown,
  ): Promise<KubeObject | undefined> => {
    const res = await fetch(`${opts.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${opts.token}`,
        accept: "application/json",
        ...(body === undefined ? {} : { "content-type": "application/merge-patch+json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(opts.client ? { client: opts.client } : {}),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
    });
    const text = await res.text();
    if (res.status === 404 && method === "GET") return undefined;
    if (!res.ok) {
      let message = text.slice(0, 300);
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? message;
      } catch { /* not JSON */ }
      throw new KubeApiError(res.status, `${method} ${path} → ${res.status}: ${message}`);
    }
    return JSON.parse(text) as KubeObject;
  };
  return {
    namespace: opts.namespace,
    get: (path) => call("GET", path),
    mergePatch: async (path, patch) => (await call("PATCH", path, patch))!,
  };
}

/** The API as this pod's service account, from what Kubernetes mounts and sets in the pod. */
export async function inClusterApi(dir = SERVICE_ACCOUNT_DIR): Promise<KubeApi> {
  const host = Deno.env.get("KUBERNETES_SERVICE_HOST");
  const port = Deno.env.get("KUBERNETES_SERVICE_PORT") ?? "443";
  if (!host) throw new Error("KUBERNETES_SERVICE_HOST is not set: not in a Kubernetes pod");
  const read = (name: string) => Deno.readTextFile(join(dir, name));
  const [token, ca, namespace] = await Promise.all([
    read("token"),
    read("ca.crt"),
    read("namespace"),
  ]);
  return kubeApi({
    baseUrl: `https://${host.includes(":") ? `[${host}]` : host}:${port}`,
    token: token.trim(),
    namespace: namespace.trim(),
    client: Deno.createHttpClient({ caCerts: [ca] }),
  });
}
