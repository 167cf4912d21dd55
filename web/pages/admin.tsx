/**
 * The admin console: every order with filters, the catalogue with prices and stock, customers with
 * their balances, and the dead-letter topics. Changes go through the API from app.js with the
 * admin's token (the services check the role; these pages are only shown to admins).
 * @module
 */
import type { Child } from "hono/jsx";
import type { OrderJson, ProductJson } from "../api.ts";
import { formatCents } from "../money.ts";
import type { Customer, DeadLetter } from "../store.ts";
import { STATUS_NAMES, statusWord } from "../status.ts";
import {
  Field,
  FormError,
  Layout,
  Money,
  Notice,
  type PageContext,
  Pager,
  ShortId,
  When,
} from "./layout.tsx";
import { OrdersTable } from "./orders.tsx";

/**
 * A one-field form of a table row that calls the API (app.js) and re-renders the page: the field
 * is labelled for screen readers (the row says what it is for sighted people), and the button is
 * described by the row's name.
 */
function InlineApiForm(props: {
  api: string;
  done: string;
  /** The path parameter: its name and value, e.g. `["id", productId]`. */
  param: [string, string];
  id: string;
  name: string;
  label: string;
  json: "cents" | "int";
  value?: string;
  button: string;
  /** The id of what the button acts on (the row's name). */
  describes: string;
  before?: Child;
}) {
  return (
    <form
      data-api={props.api}
      data-then="reload"
      data-done={props.done}
      class="inline-form"
      novalidate
    >
      {props.before}
      <input type="hidden" name={props.param[0]} value={props.param[1]} />
      <label for={props.id} class="visually-hidden">{props.label}</label>
      <input
        id={props.id}
        name={props.name}
        data-json={props.json}
        inputmode={props.json === "cents" ? "decimal" : "numeric"}
        value={props.value}
        class="short"
        required
        aria-describedby={`${props.id}-error`}
      />
      <button type="submit" class="small secondary" aria-describedby={props.describes}>
        {props.button}
      </button>
      <span id={`${props.id}-error`} class="field-error" data-field-error={props.name}></span>
      <FormError />
    </form>
  );
}

/** Every order, filtered. */
export function AdminOrdersPage(props: {
  ctx: PageContext;
  orders: readonly OrderJson[];
  customers: ReadonlyMap<string, string>;
  status: string;
  customer: string;
  notice?: string;
  next: string | undefined;
}) {
  const q = (token: string) => {
    const p = new URLSearchParams();
    if (props.status) p.set("status", props.status);
    if (props.customer) p.set("customer", props.customer);
    p.set("page", token);
    return `/admin/orders?${p}`;
  };
  return (
    <Layout ctx={props.ctx} title="All orders" admin>
      <h1>All orders</h1>
      <form method="get" action="/admin/orders" class="filters" role="search">
        <div class="field field-small">
          <label for="status">Status</label>
          <select id="status" name="status">
            <option value="" selected={!props.status}>Any</option>
            {STATUS_NAMES.map((s) => (
              <option value={s} selected={props.status === s}>{statusWord(s)}</option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="customer">Customer</label>
          <input
            id="customer"
            name="customer"
            type="search"
            value={props.customer}
            placeholder="email, name or id"
          />
        </div>
        <button type="submit" class="secondary">Filter</button>
      </form>
      {props.notice && <Notice kind="info">{props.notice}</Notice>}
      {props.orders.length === 0 ? <p>No orders match.</p> : (
        <OrdersTable
          orders={props.orders}
          customers={props.customers}
          hrefOf={(o) => `/admin/orders/${o.id}`}
        />
      )}
      <Pager next={props.next} href={q} />
    </Layout>
  );
}

/** The catalogue with prices and stock, to create products, change prices and add stock. */
export function AdminProductsPage(props: {
  ctx: PageContext;
  products: readonly ProductJson[];
  stock: ReadonlyMap<string, number>;
  next: string | undefined;
}) {
  return (
    <Layout ctx={props.ctx} title="Products and stock" admin>
      <h1>Products and stock</h1>
      <section aria-labelledby="new-h" class="panel">
        <h2 id="new-h">New product</h2>
        <form
          data-api="POST /v1/product"
          data-then="reload"
          data-done="Product created."
          class="row-form"
          novalidate
        >
          <FormError />
          <Field id="new-name" name="name" label="Name" required />
          <Field id="new-description" name="description" label="Description" />
          <Field
            id="new-price"
            name="price_cents"
            label="Price"
            json="cents"
            inputmode="decimal"
            hint="e.g. 12.50"
            required
            size="small"
          />
          <button type="submit" class="primary">Create product</button>
        </form>
      </section>
      <table class="lines products">
        <thead>
          <tr>
            <th scope="col">Product</th>
            <th scope="col">Price</th>
            <th scope="col">Stock</th>
          </tr>
        </thead>
        <tbody>
          {props.products.map((p) => {
            const q = props.stock.get(p.id);
            return (
              <tr data-product={p.id}>
                <th scope="row" id={`name-${p.id}`}>
                  <a href={`/products/${p.id}`}>{p.name}</a>
                  <br />
                  <ShortId id={p.id} />
                </th>
                <td>
                  <InlineApiForm
                    api="PATCH /v1/product/{id}"
                    done={`Price of ${p.name} saved.`}
                    param={["id", p.id]}
                    id={`price-${p.id}`}
                    name="price_cents"
                    label={`Price of ${p.name}`}
                    json="cents"
                    value={formatCents(p.priceCents ?? "0")}
                    button="Save price"
                    describes={`name-${p.id}`}
                  />
                </td>
                <td>
                  <InlineApiForm
                    api="POST /v1/warehouse/product/{product_id}/stock"
                    done={`Stock of ${p.name} added.`}
                    param={["product_id", p.id]}
                    id={`add-${p.id}`}
                    name="quantity"
                    label={`Units to add to ${p.name}`}
                    json="int"
                    button="Add stock"
                    describes={`name-${p.id}`}
                    before={<span class="stock-now" data-stock>{q === undefined ? "—" : q}</span>}
                  />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <Pager next={props.next} href={(t) => `/admin/products?page=${encodeURIComponent(t)}`} />
    </Layout>
  );
}

/** Customers found by name or email, with their balances, to credit them. */
export function AdminCustomersPage(props: {
  ctx: PageContext;
  query: string;
  customers: readonly Customer[];
  balances: ReadonlyMap<string, string>;
}) {
  return (
    <Layout ctx={props.ctx} title="Customers and balances" admin>
      <h1>Customers and balances</h1>
      <form method="get" action="/admin/customers" class="filters" role="search">
        <div class="field">
          <label for="q">Find a customer</label>
          <input
            id="q"
            name="q"
            type="search"
            value={props.query}
            placeholder="name or email"
            aria-describedby="q-hint"
          />
          <span id="q-hint" class="hint">Newest first; part of a name or an email is enough.</span>
        </div>
        <button type="submit" class="secondary">Search</button>
      </form>
      {props.customers.length === 0 ? <p>No customer matches.</p> : (
        <table class="lines">
          <thead>
            <tr>
              <th scope="col">Customer</th>
              <th scope="col" class="num">Balance</th>
              <th scope="col">Credit</th>
            </tr>
          </thead>
          <tbody>
            {props.customers.map((c) => {
              const name = `${c.firstName} ${c.lastName}`;
              return (
                <tr data-customer={c.id} data-email={c.email}>
                  <th scope="row" id={`cust-${c.id}`}>
                    {name}
                    <br />
                    <span class="sub">{c.email}</span>
                  </th>
                  <td class="num" data-balance>
                    {props.balances.has(c.id) ? <Money cents={props.balances.get(c.id)} /> : "—"}
                  </td>
                  <td>
                    <InlineApiForm
                      api="POST /v1/payment/balance/{customer_id}/credit"
                      done={`Credited ${name}.`}
                      param={["customer_id", c.id]}
                      id={`credit-${c.id}`}
                      name="amount_cents"
                      label={`Amount to credit to ${name}`}
                      json="cents"
                      button="Credit"
                      describes={`cust-${c.id}`}
                    />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </Layout>
  );
}

/** A dead letter's payload as the event it was meant to be (JSON), or its bytes. */
export type PayloadView = { json: string } | { hex: string; why: string };

/** The dead-letter topics: how many records each holds, and the latest ones with the reason. */
export function AdminDeadLettersPage(props: {
  ctx: PageContext;
  counts: ReadonlyArray<{ topic: string; count: number; latest: Date | null }>;
  topics: readonly string[];
  letters: ReadonlyArray<{ letter: DeadLetter; payload: PayloadView | undefined }>;
  topic: string;
}) {
  const counted = new Map(props.counts.map((c) => [c.topic, c]));
  const all = [...new Set([...props.topics, ...counted.keys()])].sort();
  return (
    <Layout ctx={props.ctx} title="Dead letters" admin>
      <h1>Dead letters</h1>
      <p>
        A consumer that cannot apply an event (it cannot be decoded, or it failed five times) sends
        it to its group's dead-letter topic,{" "}
        <code>&lt;group&gt;.dlq</code>, with the error and where it came from, and moves on. Nothing
        here is retried by itself.
      </p>
      <table class="lines">
        <thead>
          <tr>
            <th scope="col">Topic</th>
            <th scope="col" class="num">Records</th>
            <th scope="col">Latest</th>
          </tr>
        </thead>
        <tbody>
          {all.map((t) => {
            const c = counted.get(t);
            return (
              <tr>
                <th scope="row">
                  {c ? <a href={`/admin/dead-letters?topic=${encodeURIComponent(t)}`}>{t}</a> : t}
                </th>
                <td class="num">{c?.count ?? 0}</td>
                <td>{c?.latest ? <When at={c.latest} /> : "—"}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <h2>{props.topic ? `Latest in ${props.topic}` : "Latest"}</h2>
      {props.letters.length === 0
        ? <p>No dead letters: every event was applied.</p>
        : (
          <ul class="letters">
            {props.letters.map(({ letter: d, payload }) => (
              <li>
                <details>
                  <summary>
                    <code>{d.sourceTopic ?? "?"}</code> → <strong>{d.consumer ?? "?"}</strong>
                    {d.attempts !== null &&
                      ` after ${d.attempts} attempt${d.attempts === 1 ? "" : "s"}`}
                    : {(d.error ?? "no error recorded").slice(0, 160)}
                  </summary>
                  <dl class="facts">
                    <dt>Dead-letter record</dt>
                    <dd>
                      <code>{d.topic}</code> partition {d.partition}, offset {d.offset}
                    </dd>
                    <dt>Came from</dt>
                    <dd>
                      <code>{d.sourceTopic}</code> partition{" "}
                      {d.headers["dlq.partition"] ?? "?"}, offset {d.headers["dlq.offset"] ?? "?"}
                    </dd>
                    <dt>Failed</dt>
                    <dd>
                      <When at={d.failedAt ?? undefined} />
                    </dd>
                    <dt>Error</dt>
                    <dd>
                      <pre>{d.error}</pre>
                    </dd>
                    <dt>Event</dt>
                    <dd>
                      {d.eventType ?? "no type header"}, id <code>{d.eventId ?? "none"}</code>, key
                      {" "}
                      <code>{d.key ?? "none"}</code>
                    </dd>
                    <dt>Payload</dt>
                    <dd>
                      {payload === undefined
                        ? "empty"
                        : "json" in payload
                        ? <pre>{payload.json}</pre>
                        : (
                          <>
                            <p>{payload.why}</p>
                            <pre>{payload.hex}</pre>
                          </>
                        )}
                    </dd>
                  </dl>
                </details>
              </li>
            ))}
          </ul>
        )}
    </Layout>
  );
}
