/**
 * The bench's world and its orders: products with plenty of stock plus one sold out, "rich"
 * customers credited far beyond what they can spend and "poor" ones credited less than any order,
 * and an order chooser that mixes orders that should be approved, rejected for stock, rejected for
 * balance and (for the chaos suite) cancelled by their customer, in given proportions. Every
 * credit and every unit of stock added is recorded, so the chaos suite can check balances and
 * stock against them.
 * @module
 */
import type { Customer } from "@stocklet/testing/stack";
import type { BenchApi } from "./target.ts";

/**
 * Why an order was placed: the outcome it should get (`cancel`: approved, then cancelled by its
 * customer a moment after it was placed, wherever the saga is by then).
 */
export type OrderKind = "ok" | "stock" | "balance" | "cancel";

/** Weights of each kind (any positive scale; 80/10/10 is the bench's). */
export interface Mix {
  ok: number;
  stock: number;
  balance: number;
  /** Orders their customer cancels. @default 0 */
  cancel?: number;
}

/** Parses `ok/stock/balance[/cancel]` weights, e.g. `80/10/10` or `70/10/10/10`. */
export function parseMix(text: string): Mix {
  const parts = text.split("/").map((p) => Number(p.trim()));
  if (
    (parts.length !== 3 && parts.length !== 4) ||
    parts.some((n) => !Number.isFinite(n) || n < 0)
  ) {
    throw new Error(`--mix ${text}: expected three or four non-negative numbers like 80/10/10`);
  }
  const [ok, stock, balance, cancel = 0] = parts as [number, number, number, number?];
  if (ok + stock + balance + cancel <= 0) throw new Error(`--mix ${text}: the weights add up to 0`);
  return parts.length === 4 ? { ok, stock, balance, cancel } : { ok, stock, balance };
}

/** A product of the fixture. */
export interface FixtureProduct {
  id: string;
  priceCents: number;
}

/** What the bench created, and the credits and stock it gave. */
export interface Fixture {
  products: FixtureProduct[];
  /** A product with no stock at all: ordering it is rejected for stock. */
  soldOut: FixtureProduct;
  rich: Customer[];
  poor: Customer[];
  /** Customer id → total credited, in cents. */
  credits: Map<string, bigint>;
  /** Product id → units added. */
  added: Map<string, number>;
}

/** Sizes of a fixture. */
export interface FixtureOptions {
  /** Customers that can pay for anything. */
  customers: number;
  /** Customers whose balance covers no order (for balance rejections). */
  poorCustomers: number;
  products: number;
  stockPerProduct: number;
  /** @default 10^10 cents */
  richCreditCents?: bigint;
  /** Below the cheapest order (prices start at 100 cents). @default 50 */
  poorCreditCents?: bigint;
  /** Setup calls in flight at once. @default 4 */
  concurrency?: number;
  log?: (line: string) => void;
}

/** Runs fn over items with at most `limit` calls in flight; results in input order. */
export async function pool<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

/** Creates products and customers through the public API (as admin where needed). */
export async function setupFixture(api: BenchApi, opts: FixtureOptions): Promise<Fixture> {
  const log = opts.log ?? (() => {});
  const conc = opts.concurrency ?? 4;
  const credits = new Map<string, bigint>();
  const added = new Map<string, number>();
  const t0 = performance.now();
  const products = await pool(
    Array.from({ length: opts.products }, (_, i) => i),
    conc,
    async (i) => {
      const priceCents = 100 + ((i * 137) % 900);
      const id = await api.product(priceCents, opts.stockPerProduct);
      added.set(id, opts.stockPerProduct);
      return { id, priceCents };
    },
  );
  const soldOutId = await api.product(100, 0);
  added.set(soldOutId, 0);
  log(`fixture: ${products.length + 1} products in ${Math.round(performance.now() - t0)} ms`);
  const t1 = performance.now();
  const make = async (cents: bigint): Promise<Customer> => {
    const c = await api.customer();
    if (cents > 0n) await api.credit(c.id, cents);
    credits.set(c.id, cents);
    return c;
  };
  const rich = await pool(
    Array.from({ length: opts.customers }),
    conc,
    () => make(opts.richCreditCents ?? 10_000_000_000n),
  );
  const poor = await pool(
    Array.from({ length: opts.poorCustomers }),
    conc,
    () => make(opts.poorCreditCents ?? 50n),
  );
  log(
    `fixture: ${rich.length} + ${poor.length} customers registered and credited in ${
      Math.round(performance.now() - t1)
    } ms`,
  );
  return { products, soldOut: { id: soldOutId, priceCents: 100 }, rich, poor, credits, added };
}

/** One order to place. */
export interface OrderPlan {
  kind: OrderKind;
  customer: Customer;
  /** Product id → quantity. */
  cart: Record<string, number>;
}

/** Picks the next order: its kind by the mix, then a customer and a cart that lead to it. */
export function chooseOrder(rand: () => number, f: Fixture, mix: Mix): OrderPlan {
  const total = mix.ok + mix.stock + mix.balance + (mix.cancel ?? 0);
  const r = rand() * total;
  const kind: OrderKind = r < mix.ok
    ? "ok"
    : r < mix.ok + mix.stock
    ? "stock"
    : r < mix.ok + mix.stock + mix.balance
    ? "balance"
    : "cancel";
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const cart: Record<string, number> = {};
  const lines = 1 + Math.floor(rand() * Math.min(3, f.products.length));
  while (Object.keys(cart).length < lines) cart[pick(f.products).id] = 1 + Math.floor(rand() * 3);
  if (kind === "stock") cart[f.soldOut.id] = 1;
  const customers = kind === "balance" && f.poor.length ? f.poor : f.rich;
  return { kind, customer: pick(customers), cart };
}
