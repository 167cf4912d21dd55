/**
 * The web front's routes: pages rendered on the server from the services' APIs (as the signed-in
 * person) and the web front's own read model, the cart and session cookies, the live order stream
 * and the static files. Pages work with the keyboard and, for reading, without JavaScript; app.js
 * makes the forms talk to the API through the edge.
 * @module
 */
import { fromBinary, toJsonString } from "@bufbuild/protobuf";
import { Hono } from "hono";
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { isAdmin, type TokenVerifier } from "@stocklet/shared/auth";
import type { Sql } from "@stocklet/shared/db";
import { isUuid } from "@stocklet/shared/ids";
import { getLog } from "@stocklet/shared/logging";
import { schemaOf } from "@stocklet/shared/topics";
import {
  ApiError,
  getProduct,
  listProducts,
  type NotificationJson,
  type OrderJson,
  type Page,
  productsById,
  type ReadOptions,
  type Services,
  stockLevels,
  type TransactionJson,
} from "./api.ts";
import type { Assets } from "./assets.ts";
import { gzip, MIN_COMPRESSED_BYTES, negotiate } from "./compress.ts";
import {
  addToCart,
  CART_COOKIE,
  cartCookieValue,
  cartUnits,
  parseCart,
  setQuantity,
} from "./cart.ts";
import type { LiveHub } from "./live.ts";
import { BalancePage, NotificationsPage } from "./pages/account.tsx";
import {
  AdminCustomersPage,
  AdminDeadLettersPage,
  AdminOrdersPage,
  AdminProductsPage,
  type PayloadView,
} from "./pages/admin.tsx";
import { LoginPage, RegisterPage, safeNext } from "./pages/auth.tsx";
import { CartPage } from "./pages/cart.tsx";
import { CataloguePage, ProductPage } from "./pages/catalogue.tsx";
import { ForbiddenPage, NotFoundPage, UnavailablePage } from "./pages/errors.tsx";
import type { Features, PageContext, Session } from "./pages/layout.tsx";
import { currentStatus, OrderItems, OrderPage, OrdersPage, SagaParts } from "./pages/orders.tsx";
import { SessionChecker } from "./session.ts";
import { cancellable, STATUS_NAMES, statusWord } from "./status.ts";
import { describeStep } from "./timeline.ts";
import {
  customersById,
  deadLetterCounts,
  findCustomers,
  latestDeadLetters,
  orderSteps,
} from "./store.ts";

const log = getLog("web");

/** The session cookie: the access token, as the API takes it. */
export const SESSION_COOKIE = "stocklet_session";

/** What the routes need. */
export interface WebDeps {
  sql: Sql;
  services: Services;
  verifier: TokenVerifier;
  hub: LiveHub;
  assets: Assets;
  features: Features;
  /** See WebConfig.traceUrl. */
  traceUrl: string;
  /** The dead-letter topics being read, and a way to look for new ones now. */
  deadLetters: { topics(): readonly string[]; refresh(): Promise<void> };
  /** Resolves when the web front can serve (database, consumer); rejects saying why not. */
  ready: () => Promise<void>;
  /** How long a live order stream stays open before the browser reconnects (ms). @default 600_000 */
  streamLifetimeMs?: number;
}

type Env = { Variables: { session: Session | undefined; requestId: string } };

/** Catalogue products per page. */
const PAGE_SIZE = 24;

const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; " +
    "script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; " +
    "form-action 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
  "x-frame-options": "DENY",
};

function pageContext(c: Context<Env>, deps: WebDeps): PageContext {
  return {
    assets: deps.assets,
    session: c.get("session"),
    cartCount: cartUnits(parseCart(getCookie(c, CART_COOKIE))),
    features: deps.features,
    path: new URL(c.req.url).pathname + new URL(c.req.url).search,
  };
}

/** A page: HTML, never stored by a shared cache (it may carry the person's data). */
async function page(
  c: Context<Env>,
  jsx: ReturnType<typeof CataloguePage>,
  status = 200,
): Promise<Response> {
  const html = new TextEncoder().encode("<!doctype html>" + String(await jsx));
  const coding = html.byteLength >= MIN_COMPRESSED_BYTES
    ? negotiate(c.req.header("accept-encoding"), ["gzip"])
    : undefined;
  return c.body(coding ? gzip(html) : html, status as 200, {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "private, no-store",
    vary: "accept-encoding, cookie",
    ...(coding ? { "content-encoding": coding } : {}),
    ...SECURITY_HEADERS,
  });
}

function readOptions(c: Context<Env>): ReadOptions {
  return { token: c.get("session")?.token, requestId: c.get("requestId") };
}

/** Sends the visitor to log in, and back here afterwards. */
function toLogin(c: Context<Env>): Response {
  const u = new URL(c.req.url);
  return c.redirect(`/login?next=${encodeURIComponent(u.pathname + u.search)}`, 303);
}

/**
 * A form post from this site only: browsers say where a request comes from (`Sec-Fetch-Site`), so
 * another site cannot make a visitor's browser change their cart or log them out.
 */
function sameSite(c: Context<Env>): boolean {
  const site = c.req.header("sec-fetch-site");
  return site === undefined || site === "same-origin" || site === "none";
}

function cookieOptions(c: Context<Env>, maxAge: number) {
  const https = c.req.header("x-forwarded-proto") === "https" ||
    new URL(c.req.url).protocol === "https:";
  return { path: "/", sameSite: "Lax" as const, maxAge, secure: https };
}

/** A dead letter's payload, decoded as its source topic's event when possible. */
function payloadView(topic: string | null, payload: Uint8Array | null): PayloadView | undefined {
  if (!payload || payload.byteLength === 0) return undefined;
  const hex = Array.from(payload.slice(0, 256), (b) => b.toString(16).padStart(2, "0")).join(" ") +
    (payload.byteLength > 256 ? ` … (${payload.byteLength} bytes)` : "");
  if (!topic) return { hex, why: "No source topic recorded." };
  try {
    const schema = schemaOf(topic);
    return { json: toJsonString(schema, fromBinary(schema, payload), { prettySpaces: 2 }) };
  } catch (e) {
    return { hex, why: `Not a valid ${topic} event: ${e instanceof Error ? e.message : e}` };
  }
}

/** Product names of an order's items, as its pages show them. */
async function namesOf(
  deps: WebDeps,
  order: OrderJson,
  o: ReadOptions,
): Promise<Map<string, string>> {
  const products = await productsById(deps.services, Object.keys(order.items ?? {}), o);
  return new Map([...products].map(([id, p]) => [id, p.name]));
}

/** Builds the web front's Hono app. */
export function webApp(deps: WebDeps): Hono<Env> {
  const app = new Hono<Env>();
  const { services, sql } = deps;
  const sessions = new SessionChecker(deps.verifier);

  // Who is asking: the session cookie's token, verified like any service does.
  app.use("*", async (c, next) => {
    c.set("requestId", c.req.header("x-request-id") ?? crypto.randomUUID());
    let session: Session | undefined;
    const token = getCookie(c, SESSION_COOKIE);
    if (token) {
      const check = await sessions.check(token);
      if (check.kind === "valid") {
        const p = check.principal;
        session = { token, userId: p.userId, admin: isAdmin(p) };
      } else if (check.kind === "refused") {
        log.info("session ended: {reason}", { reason: check.reason, path: c.req.path });
        deleteCookie(c, SESSION_COOKIE, { path: "/" });
      } else {
        log.warn("session kept but not checked (treated as signed out this once): {reason}", {
          reason: check.reason,
          path: c.req.path,
          unavailableSince: sessions.outageSince?.toISOString(),
        });
      }
    }
    if (session && c.req.method === "GET" && !c.req.path.startsWith("/static/")) {
      // The read model knows the name, unless the person registered a moment ago: ask the user
      // service then.
      const name = (await customersById(sql, [session.userId])).get(session.userId)?.firstName ??
        await services.get<{ user?: { firstName?: string } }>(`/v1/user/users/${session.userId}`, {
          token,
        }).then((r) => r.user?.firstName, () => undefined);
      if (name) session.name = name;
    }
    c.set("session", session);
    await next();
  });

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    try {
      await deps.ready();
      return c.json({ status: "ok" });
    } catch (e) {
      return c.json(
        { status: "unavailable", reason: e instanceof Error ? e.message : String(e) },
        503,
      );
    }
  });
  app.get(
    "/static/*",
    (c) => deps.assets.serve(c.req.path, c.req.header("accept-encoding")) ?? c.notFound(),
  );
  app.get("/favicon.ico", (c) => c.redirect(deps.assets.url("favicon.svg"), 301));

  // ---- shopper ------------------------------------------------------------------------------

  app.get("/", async (c) => {
    const token = c.req.query("page") ?? "";
    const o = readOptions(c);
    const r = await listProducts(services, token.slice(0, 128), PAGE_SIZE, o).catch((e) => {
      if (e instanceof ApiError && e.status === 400 && token) return undefined;
      throw e;
    });
    if (!r) return c.redirect("/", 303);
    const products = r.products ?? [];
    const stock = await stockLevels(services, products.map((p) => p.id), o);
    return page(
      c,
      <CataloguePage
        ctx={pageContext(c, deps)}
        products={products}
        stock={stock}
        next={r.nextPageToken || undefined}
      />,
    );
  });

  app.get("/products/:id", async (c) => {
    const id = c.req.param("id");
    const o = readOptions(c);
    const product = isUuid(id) ? await getProduct(services, id, o) : undefined;
    if (!product) {
      return page(c, <NotFoundPage ctx={pageContext(c, deps)} what="No such product." />, 404);
    }
    const stock = await stockLevels(services, [product.id], o);
    return page(
      c,
      <ProductPage ctx={pageContext(c, deps)} product={product} quantity={stock.get(product.id)} />,
    );
  });

  app.get("/cart", async (c) => {
    const cart = parseCart(getCookie(c, CART_COOKIE));
    const o = readOptions(c);
    const ids = [...cart.keys()];
    const session = c.get("session");
    const [products, stock, balance] = await Promise.all([
      productsById(services, ids, o),
      stockLevels(services, ids, o),
      session
        ? services.get<{ balance?: { balanceCents?: string } }>(
          `/v1/payment/balance/${session.userId}`,
          o,
        ).then((r) => r.balance?.balanceCents ?? "0", () => undefined)
        : Promise.resolve(undefined),
    ]);
    return page(
      c,
      <CartPage
        ctx={pageContext(c, deps)}
        cart={cart}
        products={products}
        stock={stock}
        balanceCents={balance}
      />,
    );
  });

  const cartForm = async (
    c: Context<Env>,
    change: (cart: ReturnType<typeof parseCart>, id: string, n: number) => ReturnType<
      typeof parseCart
    >,
    back: (form: FormData, id: string) => string,
  ) => {
    if (!sameSite(c)) return c.text("cross-site form posts are refused", 403);
    const form = await c.req.formData().catch(() => undefined);
    const id = String(form?.get("product") ?? "");
    const n = Number(form?.get("quantity") ?? "1");
    if (!form || !isUuid(id) || !Number.isInteger(n) || n < 0 || n > 10_000) {
      return c.text("a product id and a quantity (0 to 10000) are needed", 400);
    }
    const cart = change(parseCart(getCookie(c, CART_COOKIE)), id, n);
    setCookie(c, CART_COOKIE, cartCookieValue(cart), cookieOptions(c, 30 * 86_400));
    return c.redirect(back(form, id), 303);
  };
  app.post(
    "/cart/add",
    (c) =>
      cartForm(
        c,
        (cart, id, n) => addToCart(cart, id, Math.max(n, 1)),
        (f, id) => `${safeNext(String(f.get("back") ?? "/")).split("#")[0]}#p-${id}`,
      ),
  );
  app.post("/cart/update", (c) => cartForm(c, setQuantity, () => "/cart"));

  app.get(
    "/login",
    (c) => page(c, <LoginPage ctx={pageContext(c, deps)} next={safeNext(c.req.query("next"))} />),
  );
  app.get(
    "/register",
    (c) =>
      page(c, <RegisterPage ctx={pageContext(c, deps)} next={safeNext(c.req.query("next"))} />),
  );
  app.post("/logout", (c) => {
    if (!sameSite(c)) return c.text("cross-site form posts are refused", 403);
    deleteCookie(c, SESSION_COOKIE, { path: "/" });
    return c.redirect("/", 303);
  });

  app.get("/orders", async (c) => {
    if (!c.get("session")) return toLogin(c);
    const q = new URLSearchParams({ page_size: "20" });
    const token = c.req.query("page");
    if (token) q.set("page_token", token.slice(0, 128));
    const r = await services.get<{ orders?: OrderJson[] } & Page>(
      `/v1/order/list?${q}`,
      readOptions(c),
    );
    return page(
      c,
      <OrdersPage
        ctx={pageContext(c, deps)}
        orders={r.orders ?? []}
        next={r.nextPageToken || undefined}
      />,
    );
  });

  const orderPage = async (c: Context<Env>) => {
    if (!c.get("session")) return toLogin(c);
    const id = c.req.param("id") ?? "";
    const o = readOptions(c);
    const order = isUuid(id)
      ? await services.get<{ order: OrderJson }>(`/v1/order/orders/${id}`, o).then(
        (r) => r.order,
        (e) => {
          if (e instanceof ApiError && e.status === 404) return undefined;
          throw e;
        },
      )
      : undefined;
    if (!order) {
      return page(c, <NotFoundPage ctx={pageContext(c, deps)} what="No such order." />, 404);
    }
    const [steps, names] = await Promise.all([orderSteps(sql, order.id), namesOf(deps, order, o)]);
    return page(
      c,
      <OrderPage
        ctx={pageContext(c, deps)}
        order={order}
        steps={steps}
        names={names}
        traceUrl={deps.traceUrl}
      />,
    );
  };
  app.get("/orders/:id", orderPage);

  // The order page's live stream: the saga's latest rendering whenever a step commits.
  app.get("/events/orders/:id", async (c) => {
    const session = c.get("session");
    if (!session) return c.text("log in to follow an order", 401);
    const id = c.req.param("id");
    const o = readOptions(c);
    if (!isUuid(id)) return c.text("no such order", 404);
    let order: OrderJson;
    try {
      order = (await services.get<{ order: OrderJson }>(`/v1/order/orders/${id}`, o)).order;
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return c.text("no such order", 404);
      throw e;
    }
    const names = await namesOf(deps, order, o);
    // Each update reads the order again (its status and prices), as the person, keeping the last
    // good copy if that fails (e.g. the token expired while the page stayed open).
    const reload = async () => {
      order = await services.get<{ order: OrderJson }>(`/v1/order/orders/${id}`, o).then(
        (r) => r.order,
        () => order,
      );
      return order;
    };
    return liveStream(deps, c.req.raw.signal, order.id, reload, names);
  });

  app.get("/account", async (c) => {
    const s = c.get("session");
    if (!s) return toLogin(c);
    const o = readOptions(c);
    const q = new URLSearchParams({ page_size: "20" });
    const token = c.req.query("page");
    if (token) q.set("page_token", token.slice(0, 128));
    const [balance, txs] = await Promise.all([
      services.get<{ balance?: { balanceCents?: string } }>(`/v1/payment/balance/${s.userId}`, o)
        .then((r) => r.balance?.balanceCents ?? "0", (e) => {
          if (e instanceof ApiError && e.status === 404) return undefined;
          throw e;
        }),
      services.get<{ transactions?: TransactionJson[] } & Page>(`/v1/payment/transactions?${q}`, o),
    ]);
    return page(
      c,
      <BalancePage
        ctx={pageContext(c, deps)}
        balanceCents={balance}
        transactions={txs.transactions ?? []}
        next={txs.nextPageToken || undefined}
      />,
    );
  });

  app.get("/notifications", async (c) => {
    if (!deps.features.notifications) {
      return page(c, <NotFoundPage ctx={pageContext(c, deps)} />, 404);
    }
    if (!c.get("session")) return toLogin(c);
    const q = new URLSearchParams();
    const token = c.req.query("page");
    if (token) q.set("page_token", token.slice(0, 128));
    const r = await services.get<{ notifications?: NotificationJson[] } & Page>(
      `/v1/notification/list?${q}`,
      readOptions(c),
    );
    return page(
      c,
      <NotificationsPage
        ctx={pageContext(c, deps)}
        notifications={r.notifications ?? []}
        next={r.nextPageToken || undefined}
      />,
    );
  });

  // ---- admin --------------------------------------------------------------------------------

  const admin = new Hono<Env>();
  admin.use("*", async (c, next) => {
    const s = c.get("session");
    if (!s) return toLogin(c);
    if (!s.admin) return page(c, <ForbiddenPage ctx={pageContext(c, deps)} />, 403);
    return await next();
  });
  admin.get("/", (c) => c.redirect("/admin/orders", 303));

  admin.get("/orders", async (c) => {
    const o = readOptions(c);
    const status = STATUS_NAMES.includes(c.req.query("status") ?? "") ? c.req.query("status")! : "";
    const customer = (c.req.query("customer") ?? "").trim().slice(0, 254);
    const q = new URLSearchParams({ page_size: "25" });
    if (status) q.set("statuses", status);
    let notice: string | undefined;
    if (customer) {
      const found = isUuid(customer)
        ? [{ id: customer.toLowerCase() }]
        : await findCustomers(sql, customer, 2);
      if (found.length === 1) q.set("customer_id", found[0]!.id);
      else {
        notice = found.length === 0
          ? `No customer matches “${customer}”.`
          : `Several customers match “${customer}”: give the whole email.`;
      }
    }
    const token = c.req.query("page");
    if (token) q.set("page_token", token.slice(0, 128));
    const r = notice
      ? { orders: [] as OrderJson[] } as { orders?: OrderJson[] } & Page
      : await services.get<
        { orders?: OrderJson[] } & Page
      >(`/v1/order/search?${q}`, o);
    const orders = r.orders ?? [];
    const people = await customersById(sql, [...new Set(orders.map((x) => x.customerId))]);
    return page(
      c,
      <AdminOrdersPage
        ctx={pageContext(c, deps)}
        orders={orders}
        customers={new Map([...people].map(([id, p]) => [id, p.email]))}
        status={status}
        customer={customer}
        {...(notice ? { notice } : {})}
        next={r.nextPageToken || undefined}
      />,
    );
  });
  admin.get("/orders/:id", orderPage);

  admin.get("/products", async (c) => {
    const o = readOptions(c);
    const token = c.req.query("page") ?? "";
    const r = await listProducts(services, token.slice(0, 128), 50, o);
    const products = r.products ?? [];
    const stock = await stockLevels(services, products.map((p) => p.id), o);
    return page(
      c,
      <AdminProductsPage
        ctx={pageContext(c, deps)}
        products={products}
        stock={stock}
        next={r.nextPageToken || undefined}
      />,
    );
  });

  admin.get("/customers", async (c) => {
    const o = readOptions(c);
    const query = (c.req.query("q") ?? "").slice(0, 254);
    const customers = await findCustomers(sql, query, 20);
    const balances = new Map<string, string>();
    await Promise.all(customers.map(async (p) => {
      try {
        const r = await services.get<{ balance?: { balanceCents?: string } }>(
          `/v1/payment/balance/${p.id}`,
          o,
        );
        balances.set(p.id, r.balance?.balanceCents ?? "0");
      } catch (e) {
        if (!(e instanceof ApiError && e.status === 404)) throw e;
      }
    }));
    return page(
      c,
      <AdminCustomersPage
        ctx={pageContext(c, deps)}
        query={query}
        customers={customers}
        balances={balances}
      />,
    );
  });

  admin.get("/dead-letters", async (c) => {
    const topic = (c.req.query("topic") ?? "").slice(0, 249);
    // New dead-letter topics are read from now on (their records show on the next view).
    await Promise.race([
      deps.deadLetters.refresh(),
      new Promise((resolve) => setTimeout(resolve, 1_000)),
    ]);
    const [counts, letters] = await Promise.all([
      deadLetterCounts(sql),
      latestDeadLetters(sql, topic || undefined, 50),
    ]);
    return page(
      c,
      <AdminDeadLettersPage
        ctx={pageContext(c, deps)}
        counts={counts}
        topics={deps.deadLetters.topics()}
        letters={letters.map((letter) => ({
          letter,
          payload: payloadView(letter.sourceTopic, letter.payload),
        }))}
        topic={topic}
      />,
    );
  });

  app.route("/admin", admin);

  app.notFound((c) => page(c, <NotFoundPage ctx={pageContext(c, deps)} />, 404));
  app.onError((err, c) => {
    if (err instanceof ApiError && err.status === 401) {
      // The token was good for us but not for the service (e.g. it just expired): log in again.
      deleteCookie(c, SESSION_COOKIE, { path: "/" });
      return toLogin(c);
    }
    if (err instanceof ApiError && err.status === 404) {
      return page(c, <NotFoundPage ctx={pageContext(c, deps)} />, 404);
    }
    log.error("{method} {path} failed: {error}", {
      method: c.req.method,
      path: c.req.path,
      error: err,
      request_id: c.get("requestId"),
    });
    return page(
      c,
      <UnavailablePage ctx={pageContext(c, deps)} requestId={c.get("requestId")} />,
      503,
    );
  });
  return app;
}

/**
 * The live stream of an order page (`text/event-stream`): an `event: saga` with the order's status
 * and the saga's rendering now, then again whenever a step of the order commits (coalesced, and
 * only when something changed), a comment every 20 s to keep proxies from closing it, and an end
 * after the stream's lifetime (the browser reconnects by itself).
 */
function liveStream(
  deps: WebDeps,
  aborted: AbortSignal,
  orderId: string,
  readOrder: () => Promise<OrderJson>,
  names: ReadonlyMap<string, string>,
): Response {
  const encoder = new TextEncoder();
  const cleanups: Array<() => void> = [];
  let closed = false;
  let last = "";
  let running: Promise<void> | undefined;
  let again = false;
  const body = new ReadableStream<Uint8Array>({
    start(ctl) {
      const close = () => {
        if (closed) return;
        closed = true;
        for (const f of cleanups) f();
        try {
          ctl.close();
        } catch { /* already closed */ }
      };
      const send = (text: string) => {
        if (closed) return;
        try {
          ctl.enqueue(encoder.encode(text));
        } catch {
          close();
        }
      };
      const render = async () => {
        const [steps, order] = await Promise.all([orderSteps(deps.sql, orderId), readOrder()]);
        const html = String(await <SagaParts order={order} steps={steps} names={names} />);
        const items = String(await <OrderItems order={order} names={names} />);
        if (html + items === last) return;
        last = html + items;
        const status = currentStatus(order, steps);
        const latest = steps.at(-1);
        send(`event: saga\ndata: ${
          JSON.stringify({
            status,
            statusWord: statusWord(status),
            cancellable: cancellable(status, !!order.cancelRequestedAt),
            html,
            items,
            latest: latest ? `${latest.service}: ${describeStep(latest, names)}` : "",
          })
        }\n\n`);
      };
      const nudge = () => {
        if (running) {
          again = true;
          return;
        }
        running = (async () => {
          do {
            again = false;
            await render();
          } while (again && !closed);
        })().catch((error) => log.warn("live order {id}: {error}", { id: orderId, error }))
          .finally(() => running = undefined);
      };
      cleanups.push(deps.hub.watch(orderId, nudge));
      const ping = setInterval(() => send(": ping\n\n"), 20_000);
      const end = setTimeout(close, deps.streamLifetimeMs ?? 600_000);
      cleanups.push(() => clearInterval(ping), () => clearTimeout(end));
      aborted.addEventListener("abort", close, { once: true });
      deps.hub.stopped.addEventListener("abort", close, { once: true });
      send("retry: 2000\n\n");
      nudge();
    },
    cancel() {
      closed = true;
      for (const f of cleanups) f();
    },
  });
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      // no-transform: no compression, which would hold events back.
      "cache-control": "no-store, no-transform",
      "x-accel-buffering": "no",
    },
  });
}
