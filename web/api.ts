/**
 * The web front reads the services' REST APIs while it renders a page, as the signed-in person
 * (their own token, so every service checks ownership and roles exactly as for any client). Reads
 * go straight to each service's gateway (the page request itself came through the edge); writes
 * are made by the browser through the edge, with the same token and rate limits as any client.
 * @module
 */
import { connectionDropped, connectionRefused } from "@stocklet/shared/balancer";
import { type Resolve, ResolvingBalancer } from "@stocklet/shared/resolving_balancer";
import type { ServiceName } from "@stocklet/shared/topology";

/** A service's answer other than 200. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly status: number,
    readonly body: { code?: number; message?: string },
    readonly path: string,
  ) {
    super(`${path} → ${status}: ${body.message ?? "no message"}`);
  }
}

/** Options of one read. */
export interface ReadOptions {
  /** The signed-in person's access token. */
  token?: string | undefined;
  /** The page request's id, so the services' logs line up with the edge's. */
  requestId?: string | undefined;
}

/** Reads from the services. */
export interface Services {
  /** GETs a path (`/v1/<service>/…`) from its service; throws ApiError unless 200. */
  get<T>(path: string, opts?: ReadOptions): Promise<T>;
}

/**
 * A client of the services' gateways, by base URL: a service's replicas in turn, past one that
 * refuses connections. A URL's host name is resolved to every address it has (on Kubernetes a
 * headless Service names every ready pod), so the calls spread over all of them rather than
 * staying on the pod a kept-alive connection first reached (shared/resolving_balancer.ts).
 *
 * @param opts.resolve The resolver (tests); by default DNS.
 */
export function servicesClient(
  upstreams: Readonly<Record<ServiceName, string | readonly string[]>>,
  timeoutMs = 5_000,
  opts: { resolve?: Resolve } = {},
): Services {
  const replicas = new Map(
    Object.entries(upstreams).map((
      [svc, u],
    ) => [svc, new ResolvingBalancer(typeof u === "string" ? [u] : u, opts)]),
  );
  const fetchFrom = async (
    b: ResolvingBalancer,
    path: string,
    init: RequestInit,
  ): Promise<Response> => {
    for (let i = 1;; i++) {
      const base = await b.next();
      try {
        return await fetch(base + path, init);
      } catch (e) {
        // Reads only (GET): one a replica refused or dropped midway is asked of the next.
        const refused = connectionRefused(e);
        if ((!refused && !connectionDropped(e)) || i >= b.attempts) throw e;
        if (refused) b.refused(base);
      }
    }
  };
  return {
    async get<T>(path: string, opts: ReadOptions = {}): Promise<T> {
      const svc = /^\/v1\/([a-z]+)\//.exec(path)?.[1] as ServiceName | undefined;
      const replicasOf = svc && replicas.get(svc);
      if (!replicasOf) throw new Error(`no service serves ${path}`);
      const headers: Record<string, string> = { accept: "application/json" };
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      if (opts.requestId) headers["x-request-id"] = opts.requestId;
      const res = await fetchFrom(replicasOf, path, {
        headers,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await res.text();
      let json: unknown = {};
      try {
        json = text ? JSON.parse(text) : {};
      } catch {
        json = { message: text.slice(0, 200) };
      }
      if (res.status !== 200) throw new ApiError(res.status, json as ApiError["body"], path);
      return json as T;
    },
  };
}

// ------------------------------------------------------------------------------------------------
// The wire forms (proto3 JSON: lowerCamelCase, int64 as strings, enums by name) the pages read.

/** A catalogue entry. */
export interface ProductJson {
  id: string;
  name: string;
  description?: string;
  priceCents?: string;
  createdAt?: string;
}

/** An order. */
export interface OrderJson {
  id: string;
  status: string;
  items?: Record<string, number>;
  customerId: string;
  transactionId?: string;
  shippingId?: string;
  createdAt?: string;
  updatedAt?: string;
  unitPricesCents?: Record<string, string>;
  itemsPriceCents?: string;
  totalPriceCents?: string;
  rejectReason?: string;
  /** The carrier of the dispatched shipment (SHIPPED, COMPLETED). */
  carrier?: string;
  trackingNumber?: string;
  shippedAt?: string;
  deliveredAt?: string;
  /** When a cancellation was asked for (an order still being placed is cancelled once paid). */
  cancelRequestedAt?: string;
  /** What went back to the balance when the order was CANCELLED. */
  refundedCents?: string;
}

/** A payment transaction. */
export interface TransactionJson {
  id: string;
  amountCents?: string;
  orderId: string;
  customerId: string;
  reversedAt?: string;
  processedAt?: string;
}

/** An email to the customer, as the notification service lists it. */
export interface NotificationJson {
  id?: string;
  /** `NOTIFICATION_KIND_ORDER_SHIPPED`, … */
  kind?: string;
  orderId?: string;
  subject?: string;
  /** `NOTIFICATION_STATUS_PENDING`, `…_SENT` or `…_FAILED`. */
  status?: string;
  createdAt?: string;
  sentAt?: string;
  recipient?: string;
  attempts?: number;
  /** Why the last attempt failed (PENDING after a failure, or FAILED). */
  lastError?: string;
}

/** A page of a list. */
export interface Page {
  nextPageToken?: string;
}

/** The catalogue, a page at a time. */
export function listProducts(
  s: Services,
  pageToken: string,
  pageSize: number,
  o?: ReadOptions,
): Promise<{ products?: ProductJson[] } & Page> {
  const q = new URLSearchParams({ page_size: String(pageSize) });
  if (pageToken) q.set("page_token", pageToken);
  return s.get(`/v1/product/list?${q}`, o);
}

/** One product; undefined when it does not exist. */
export async function getProduct(
  s: Services,
  id: string,
  o?: ReadOptions,
): Promise<ProductJson | undefined> {
  try {
    return (await s.get<{ product: ProductJson }>(`/v1/product/${id}`, o)).product;
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 400)) return undefined;
    throw e;
  }
}

/** Products by id (those that exist), read side by side. */
export async function productsById(
  s: Services,
  ids: readonly string[],
  o?: ReadOptions,
): Promise<Map<string, ProductJson>> {
  const found = await Promise.all([...new Set(ids)].map((id) => getProduct(s, id, o)));
  return new Map(found.filter((p): p is ProductJson => !!p).map((p) => [p.id, p]));
}

/** Stock levels by product id (products the warehouse does not know are left out). */
export async function stockLevels(
  s: Services,
  ids: readonly string[],
  o?: ReadOptions,
): Promise<Map<string, number>> {
  if (!ids.length) return new Map();
  const q = new URLSearchParams();
  for (const id of new Set(ids)) q.append("product_ids", id);
  const r = await s.get<{ stocks?: Array<{ productId: string; quantity?: number }> }>(
    `/v1/warehouse/stock?${q}`,
    o,
  );
  return new Map((r.stocks ?? []).map((x) => [x.productId, x.quantity ?? 0]));
}
