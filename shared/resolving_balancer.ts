/**
 * Spreading calls over the replicas behind one host name: a Kubernetes headless Service (`order`
 * resolves to the IP of every ready pod) or a compose service. An HTTP client resolves a name
 * once per connection and keeps connections alive, so every call through one URL would stay on
 * the pod it first reached. Here the name is resolved to all its addresses (A and AAAA), again
 * every few seconds (a pod that joins gets calls, one that left stops getting them, as Envoy's
 * STRICT_DNS clusters do), and calls go round robin over `http://<address>:<port>` URLs with a
 * {@linkcode Balancer} — each address has its own connections.
 *
 * A URL whose host is an address already, an `https:` URL (its certificate names the host) and a
 * name that does not resolve (`localhost` comes from /etc/hosts, which DNS queries do not read)
 * are called as they are.
 * @module
 */
import { Balancer, type BalancerOptions } from "./balancer.ts";

/** A host name's addresses (IPv4 dotted, IPv6 plain); rejects or gives none when unknown. */
export type Resolve = (host: string) => Promise<string[]>;

/** Options of {@linkcode ResolvingBalancer}. */
export interface ResolvingBalancerOptions extends BalancerOptions {
  /** How often names are resolved again (ms). @default 5000 */
  refreshMs?: number;
  /** The resolver (injected in tests). @default A and AAAA records with `Deno.resolveDns` */
  resolve?: Resolve;
}

/** A and AAAA records of a name, through the system's resolver configuration (search domains). */
export async function resolveAddresses(host: string): Promise<string[]> {
  const [v4, v6] = await Promise.allSettled([
    Deno.resolveDns(host, "A"),
    Deno.resolveDns(host, "AAAA"),
  ]);
  const out = [
    ...(v4.status === "fulfilled" ? v4.value : []),
    ...(v6.status === "fulfilled" ? v6.value : []),
  ];
  if (!out.length && v4.status === "rejected") throw v4.reason;
  return out;
}

/** Whether a URL's host is a name to resolve (not an address, not a TLS peer). */
function resolvable(url: URL): boolean {
  return url.protocol === "http:" && !url.hostname.startsWith("[") &&
    !/^\d{1,3}(\.\d{1,3}){3}$/.test(url.hostname);
}

/** A URL with its host replaced by an address. */
function atAddress(url: URL, address: string): string {
  const host = address.includes(":") ? `[${address}]` : address;
  const path = url.pathname === "/" ? "" : url.pathname;
  return `${url.protocol}//${host}${url.port ? `:${url.port}` : ""}${path}`;
}

/**
 * Round robin over every address of the replicas' URLs, with the passive health of
 * {@linkcode Balancer} (an address that refused a connection is skipped for a while).
 *
 * @example
 * ```ts
 * const order = new ResolvingBalancer(["http://order:8092"]);
 * const base = await order.next(); // "http://10.1.2.3:8092", then the next pod's address, …
 * ```
 */
export class ResolvingBalancer {
  readonly #urls: readonly string[];
  readonly #opts: ResolvingBalancerOptions;
  readonly #resolve: Resolve;
  readonly #refreshMs: number;
  readonly #now: () => number;
  #balancer: Balancer;
  #resolvedAt = -Infinity;
  #refreshing: Promise<void> | undefined;

  constructor(urls: readonly string[], opts: ResolvingBalancerOptions = {}) {
    this.#balancer = new Balancer(urls, opts); // validates the list
    this.#urls = this.#balancer.urls;
    this.#opts = opts;
    this.#resolve = opts.resolve ?? resolveAddresses;
    this.#refreshMs = opts.refreshMs ?? 5_000;
    this.#now = opts.now ?? (() => performance.now());
  }

  /** The URLs calls go to now (addresses once resolved). */
  get urls(): readonly string[] {
    return this.#balancer.urls;
  }

  /**
   * The next URL to call. The first call waits for the names' resolution; later ones use the
   * addresses at hand while a due refresh runs in the background.
   */
  async next(): Promise<string> {
    if (this.#now() - this.#resolvedAt >= this.#refreshMs) {
      const refresh = this.#refreshing ??= this.#refresh().finally(() => {
        this.#refreshing = undefined;
      });
      if (this.#resolvedAt === -Infinity) await refresh;
    }
    return this.#balancer.next();
  }

  /** Marks an address as gone for a while (it refused a connection). */
  refused(url: string): void {
    this.#balancer.refused(url);
  }

  /** How many attempts a call may make: one per address. */
  get attempts(): number {
    return this.#balancer.attempts;
  }

  async #refresh(): Promise<void> {
    const expanded = await Promise.all(this.#urls.map(async (u) => {
      const url = new URL(u);
      if (!resolvable(url)) return [u];
      const addresses = await this.#resolve(url.hostname).catch(() => [] as string[]);
      return addresses.length ? [...new Set(addresses)].sort().map((a) => atAddress(url, a)) : [u];
    }));
    this.#resolvedAt = this.#now();
    const next = expanded.flat();
    if (next.join(",") !== this.#balancer.urls.join(",")) {
      this.#balancer = new Balancer(next, this.#opts);
    }
  }
}
