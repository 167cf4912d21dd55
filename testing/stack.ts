/**
 * The running test stack and a small client of its public REST API (end-to-end tests and the
 * bench): requests go through the edge
 * (or straight to the service owning the path prefix, while no edge runs) and knows the saga's
 * usual moves (register, log in, create and stock a product, credit a balance, place an order and
 * wait for it to settle).
 * @module
 */
import type { ServiceName } from "@stocklet/shared/topology";
import { ensureTestStack, TEST_SETTINGS, type TestStack } from "@stocklet/scripts/stack";

/** A JSON answer. */
export interface Answer<T = Record<string, unknown>> {
  status: number;
  json: T;
  headers: Headers;
}

/** A registered customer with a token. */
export interface Customer {
  id: string;
  email: string;
  password: string;
  token: string;
}

/** The wire form of an order (proto3 JSON). */
export interface OrderJson {
  id: string;
  status: string;
  items: Record<string, number>;
  customerId: string;
  transactionId?: string;
  shippingId?: string;
  totalPriceCents: string;
  itemsPriceCents: string;
  unitPricesCents: Record<string, string>;
  rejectReason: string;
  carrier?: string;
  trackingNumber?: string;
  shippedAt?: string;
  deliveredAt?: string;
  cancelRequestedAt?: string;
  refundedCents?: string;
}

/** A message the stack's mail catcher received. */
export interface ReceivedMail {
  id: string;
  receivedAt: string;
  envelope: { from: string; to: string[] };
  from: string;
  subject: string;
  text: string;
  html: string;
}

/** The subject (user id) of an access token. */
export function subjectOf(token: string): string {
  const payload = token.split(".")[1]!.replaceAll("-", "+").replaceAll("_", "/");
  return JSON.parse(atob(payload)).sub as string;
}

let seq = 0;

/** A unique suffix for names and emails. */
export function unique(): string {
  return `${Date.now().toString(36)}${(seq++).toString(36)}${crypto.randomUUID().slice(0, 6)}`;
}

/** Resolves after ms. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The client. */
export class Api {
  #admin: string | undefined;
  constructor(readonly stack: TestStack) {}

  /** The base URL a path goes to. */
  baseOf(path: string): string {
    if (this.stack.edgeUrl) return this.stack.edgeUrl;
    const svc = /^\/v1\/([a-z]+)(\/|$|\?)/.exec(path)?.[1] as ServiceName | undefined;
    if (!svc) throw new Error(`no service for ${path}`);
    return this.stack.serviceUrl(svc);
  }

  /** One call; the body is sent as JSON unless `raw` is given. */
  async call<T = Record<string, unknown>>(
    method: string,
    path: string,
    opts: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
  ): Promise<Answer<T>> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: string | undefined;
    if (opts.raw !== undefined) body = opts.raw;
    else if (opts.body !== undefined) body = JSON.stringify(opts.body);
    if (body !== undefined) headers["content-type"] ??= "application/json";
    const res = await fetch(this.baseOf(path) + path, {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
    });
    const text = await res.text();
    let json: unknown = {};
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      json = { text };
    }
    return { status: res.status, json: json as T, headers: res.headers };
  }

  /** Like call, but throws unless the status is 200. */
  async ok<T = Record<string, unknown>>(
    method: string,
    path: string,
    opts: { token?: string; body?: unknown } = {},
  ): Promise<T> {
    const r = await this.call<T>(method, path, opts);
    if (r.status !== 200) {
      throw new Error(`${method} ${path} → ${r.status} ${JSON.stringify(r.json)}`);
    }
    return r.json;
  }

  /** Logs in and returns the access token. */
  async login(email: string, password: string): Promise<string> {
    const r = await this.ok<{ data: { access_token: string } }>("POST", "/v1/auth/login", {
      body: { email, password },
    });
    return r.data.access_token;
  }

  /** The admin's token. */
  async adminToken(): Promise<string> {
    return this.#admin ??= await this.login(TEST_SETTINGS.adminEmail, TEST_SETTINGS.adminPassword);
  }

  /** Registers and logs in a new customer. */
  async customer(): Promise<Customer> {
    const email = `buyer-${unique()}@example.com`;
    const password = "correct horse battery";
    await this.ok("POST", "/v1/user/register", {
      body: { first_name: "Test", last_name: "Buyer", email, password },
    });
    // Registration names nobody (it answers the same for a taken email): the id is the token's.
    const token = await this.login(email, password);
    return { id: subjectOf(token), email, password, token };
  }

  /** Registers and logs in a new customer, credited with `credit` cents (by the admin) if any. */
  async buyer(credit: bigint): Promise<Customer> {
    const c = await this.customer();
    if (credit > 0n) await this.credit(c.id, credit);
    return c;
  }

  /** Repeats fn while it answers 404 (an event not yet consumed), up to timeoutMs. */
  async #until404Clears<T>(
    fn: () => Promise<Answer<T>>,
    what: string,
    timeoutMs = 15_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await fn();
      if (r.status === 200) return r.json;
      if (r.status !== 404 || Date.now() > deadline) {
        throw new Error(`${what} → ${r.status} ${JSON.stringify(r.json)}`);
      }
      await sleep(50);
    }
  }

  /** Creates a product (as admin) and stocks it once the warehouse knows it. */
  async product(priceCents: number | bigint, stock = 0): Promise<string> {
    const admin = await this.adminToken();
    const r = await this.ok<{ product: { id: string } }>("POST", "/v1/product", {
      token: admin,
      body: {
        name: `Widget ${unique()}`,
        description: "for tests",
        price_cents: String(priceCents),
      },
    });
    const id = r.product.id;
    if (stock > 0) {
      await this.#until404Clears(
        () =>
          this.call("POST", `/v1/warehouse/product/${id}/stock`, {
            token: admin,
            body: { quantity: stock },
          }),
        "add stock",
      );
    } else {
      await this.#until404Clears(
        () => this.call("GET", `/v1/warehouse/product/${id}`),
        "stock row",
      );
    }
    return id;
  }

  /** Credits a customer's balance (as admin) once payment opened it. */
  async credit(customerId: string, cents: number | bigint): Promise<void> {
    const admin = await this.adminToken();
    await this.#until404Clears(
      () =>
        this.call("POST", `/v1/payment/balance/${customerId}/credit`, {
          token: admin,
          body: { amount_cents: String(cents) },
        }),
      "credit",
    );
  }

  /** A product's stock level. */
  async stock(productId: string): Promise<number> {
    const r = await this.ok<{ stock: { quantity?: number } }>(
      "GET",
      `/v1/warehouse/product/${productId}`,
    );
    return r.stock.quantity ?? 0;
  }

  /** A customer's balance in cents. */
  async balance(c: Customer): Promise<bigint> {
    const r = await this.ok<{ balance: { balanceCents: string } }>(
      "GET",
      `/v1/payment/balance/${c.id}`,
      {
        token: c.token,
      },
    );
    return BigInt(r.balance.balanceCents);
  }

  /** A customer's transactions (first page of up to 100). */
  async transactions(
    c: Customer,
  ): Promise<Array<{ id: string; orderId: string; amountCents: string; reversedAt?: string }>> {
    const r = await this.ok<
      { transactions: Array<{ id: string; orderId: string; amountCents: string }> }
    >(
      "GET",
      "/v1/payment/transactions?page_size=100",
      { token: c.token },
    );
    return r.transactions;
  }

  /** Places an order; returns it as answered (PROCESSING). */
  async place(c: Customer, cart: Record<string, number>): Promise<OrderJson> {
    const r = await this.ok<{ order: OrderJson }>("POST", "/v1/order/place", {
      token: c.token,
      body: cart,
    });
    return r.order;
  }

  /** Polls an order until it is APPROVED or REJECTED. */
  async settled(c: Customer, orderId: string, timeoutMs = 30_000): Promise<OrderJson> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.ok<{ order: OrderJson }>("GET", `/v1/order/orders/${orderId}`, {
        token: c.token,
      });
      if (
        r.order.status === "ORDER_STATUS_APPROVED" || r.order.status === "ORDER_STATUS_REJECTED"
      ) return r.order;
      if (Date.now() > deadline) {
        throw new Error(`order ${orderId} still ${r.order.status} after ${timeoutMs} ms`);
      }
      await sleep(50);
    }
  }

  /** Polls an order until its status is one of `statuses` (names without the prefix). */
  async orderReaches(
    c: Customer,
    orderId: string,
    statuses: string[],
    timeoutMs = 30_000,
  ): Promise<OrderJson> {
    const wanted = statuses.map((s) => `ORDER_STATUS_${s}`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.ok<{ order: OrderJson }>("GET", `/v1/order/orders/${orderId}`, {
        token: c.token,
      });
      if (wanted.includes(r.order.status)) return r.order;
      if (Date.now() > deadline) {
        throw new Error(
          `order ${orderId} still ${r.order.status}, not ${statuses} after ${timeoutMs} ms`,
        );
      }
      await sleep(50);
    }
  }

  /**
   * Dispatches a shipment as the admin; the raw answer. Like a warehouse app, it retries the
   * refusal that lifts by itself (409 with Retry-After: shipping has not heard of the order's
   * approval yet) for a few seconds.
   */
  async dispatch(
    shipmentId: string,
    carrier = "DHL Express",
    trackingNumber = `JD${unique().toUpperCase()}`,
  ): Promise<Answer<{ shipment: Record<string, unknown>; message?: string }>> {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const r = await this.call<{ shipment: Record<string, unknown>; message?: string }>(
        "POST",
        `/v1/shipping/shipment/${shipmentId}/dispatch`,
        { token: await this.adminToken(), body: { carrier, tracking_number: trackingNumber } },
      );
      if (r.status !== 409 || !r.headers.get("retry-after") || Date.now() > deadline) return r;
      await sleep(50);
    }
  }

  /** Records a shipment's delivery as the admin; the raw answer. */
  async deliver(shipmentId: string): Promise<Answer<{ shipment: Record<string, unknown> }>> {
    return await this.call("POST", `/v1/shipping/shipment/${shipmentId}/deliver`, {
      token: await this.adminToken(),
    });
  }

  /** Cancels an order as its customer; the raw answer. */
  async cancel(
    c: Customer,
    orderId: string,
  ): Promise<Answer<{ order: OrderJson; message?: string }>> {
    return await this.call("POST", `/v1/order/orders/${orderId}/cancel`, { token: c.token });
  }

  /** What the stack's mail catcher received for an address, oldest first. */
  async mailTo(address: string): Promise<ReceivedMail[]> {
    const res = await fetch(
      `${this.stack.mailboxUrl}/api/messages?to=${encodeURIComponent(address)}`,
    );
    if (!res.ok) throw new Error(`mailbox → ${res.status} ${await res.text()}`);
    return await res.json();
  }

  /** Waits until the mail catcher received at least n messages for an address; returns them. */
  async mailArrives(address: string, n: number, timeoutMs = 20_000): Promise<ReceivedMail[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const mail = await this.mailTo(address).catch(() => []);
      if (mail.length >= n) return mail;
      if (Date.now() > deadline) {
        throw new Error(
          `${address} received ${mail.length} of ${n} emails in ${timeoutMs} ms: ${
            mail.map((m) => m.subject).join("; ")
          }`,
        );
      }
      await sleep(50);
    }
  }

  /** Polls fn until it returns true (for state that settles after the order does). */
  async eventually(fn: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await fn())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(50);
    }
  }
}

let shared: Promise<Api> | undefined;

/** The API client of the (started once, then reused) test stack. */
export function api(): Promise<Api> {
  return shared ??= ensureTestStack().then((stack) => new Api(stack));
}
