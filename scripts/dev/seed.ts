/**
 * Demo data for the dev stack, created through the public API like a user would (so it also shows
 * the API works): the admin logs in, a demo customer is registered and credited, and a small
 * catalogue is created and stocked. Idempotent: a second run only tops up what ran low.
 * @module
 */

/** What the seed made (or found). */
export interface DemoData {
  admin: { email: string; password: string };
  customer: { id: string; email: string; password: string; token: string };
  products: Array<{ id: string; name: string; priceCents: string }>;
}

/** The demo catalogue: name, description, price in cents. */
export const CATALOGUE: ReadonlyArray<[string, string, number]> = [
  ["Teapot", "Stoneware, 1.2 l, keeps tea hot for an hour", 3450],
  ["Tea cups (set of 4)", "Porcelain, 200 ml each", 2400],
  ["Loose-leaf sencha", "100 g, first flush", 1299],
  ["Kettle", "Gooseneck, 0.8 l, temperature control", 5900],
  ["Tea towel", "Linen, 50 × 70 cm", 899],
  ["Honey jar", "Wildflower, 350 g", 750],
];

/** Demo customer credentials (dev only). */
export const DEMO_CUSTOMER = { email: "demo@stocklet.local", password: "stocklet-demo" } as const;

type Call = (
  method: string,
  path: string,
  opts?: { token?: string; body?: unknown },
) => Promise<{ status: number; json: Record<string, unknown> }>;

/** A JSON client that sends each path to `baseOf(path)`. */
export function client(baseOf: (path: string) => string): Call {
  return async (method, path, opts = {}) => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    const res = await fetch(baseOf(path) + path, {
      method,
      headers,
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : {} };
  };
}

async function ok(
  call: Call,
  method: string,
  path: string,
  opts?: { token?: string; body?: unknown },
) {
  const r = await call(method, path, opts);
  if (r.status !== 200) {
    throw new Error(`${method} ${path} → ${r.status}: ${JSON.stringify(r.json)}`);
  }
  return r.json;
}

/** Repeats a call while it answers 404: the event that creates the row is still on its way. */
async function when404Clears(fn: () => ReturnType<Call>, what: string) {
  for (let i = 0; i < 200; i++) {
    const r = await fn();
    if (r.status !== 404) {
      if (r.status !== 200) throw new Error(`${what} → ${r.status}: ${JSON.stringify(r.json)}`);
      return r.json;
    }
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`${what}: still 404 after 10 s (is Debezium relaying?)`);
}

async function login(call: Call, email: string, password: string): Promise<string> {
  const r = await ok(call, "POST", "/v1/auth/login", { body: { email, password } });
  return (r.data as { access_token: string }).access_token;
}

/** Creates (or tops up) the demo data. */
export async function seedDemo(
  call: Call,
  admin: { email: string; password: string },
): Promise<DemoData> {
  const adminToken = await login(call, admin.email, admin.password);

  // The demo customer.
  const reg = await call("POST", "/v1/user/register", {
    body: { first_name: "Demo", last_name: "Customer", ...DEMO_CUSTOMER },
  });
  // 200 whether or not the demo customer exists already (registration tells nobody).
  if (reg.status !== 200) {
    throw new Error(`register demo customer → ${reg.status}: ${JSON.stringify(reg.json)}`);
  }
  const token = await login(call, DEMO_CUSTOMER.email, DEMO_CUSTOMER.password);
  const sub = JSON.parse(atob(token.split(".")[1]!.replaceAll("-", "+").replaceAll("_", "/")))
    .sub as string;
  const balance = await when404Clears(
    () => call("GET", `/v1/payment/balance/${sub}`, { token }),
    "demo balance",
  );
  const cents = BigInt((balance.balance as { balanceCents: string }).balanceCents);
  if (cents < 50_000n) {
    await ok(call, "POST", `/v1/payment/balance/${sub}/credit`, {
      token: adminToken,
      body: { amount_cents: String(100_000n - cents) },
    });
  }

  // The catalogue, by name.
  const existing = new Map<string, { id: string; priceCents: string }>();
  let pageToken = "";
  do {
    const page = await ok(call, "GET", `/v1/product/list?page_size=100&page_token=${pageToken}`);
    for (
      const p of (page.products ?? []) as Array<{ id: string; name: string; priceCents: string }>
    ) {
      existing.set(p.name, p);
    }
    pageToken = String(page.nextPageToken ?? "");
  } while (pageToken);
  const products: DemoData["products"] = [];
  for (const [name, description, price] of CATALOGUE) {
    let p = existing.get(name);
    if (!p) {
      const r = await ok(call, "POST", "/v1/product", {
        token: adminToken,
        body: { name, description, price_cents: String(price) },
      });
      p = r.product as { id: string; priceCents: string };
    }
    const stock = await when404Clears(
      () => call("GET", `/v1/warehouse/product/${p!.id}`),
      `stock of ${name}`,
    );
    const qty = (stock.stock as { quantity?: number }).quantity ?? 0;
    if (qty < 20) {
      await ok(call, "POST", `/v1/warehouse/product/${p.id}/stock`, {
        token: adminToken,
        body: { quantity: 100 - qty },
      });
    }
    products.push({ id: p.id, name, priceCents: p.priceCents });
  }
  return { admin, customer: { id: sub, ...DEMO_CUSTOMER, token }, products };
}
