/**
 * The frame of every page (header with the main navigation, the account and the cart, the main
 * content, a polite live region for announcements) and the small pieces pages share.
 * @module
 */
import { shortId } from "../timeline.ts";
import type { Child } from "hono/jsx";
import type { Assets } from "../assets.ts";
import { formatCents } from "../money.ts";
import { statusClass, statusWord } from "../status.ts";

/** The signed-in person. */
export interface Session {
  /** Their access token (the same JWT the API takes). */
  token: string;
  userId: string;
  admin: boolean;
  /** Their first name, when the read model knows it. */
  name?: string;
}

/** What routes exist in the contracts (pages offer only what works). */
export interface Features {
  /** `GET /v1/notification/list` (issue 15's notification service). */
  notifications: boolean;
  /** `POST /v1/order/orders/{order_id}/cancel` (issue 15). */
  cancel: boolean;
}

/** What every page knows about its request. */
export interface PageContext {
  assets: Assets;
  session: Session | undefined;
  /** Units in the cart (from its cookie). */
  cartCount: number;
  features: Features;
  /** The request's path, for `aria-current` and the way back after logging in. */
  path: string;
}

/** Options of {@linkcode Layout}. */
export interface LayoutProps {
  ctx: PageContext;
  title: string;
  children?: Child;
  /** Extra modules of the page (e.g. `live.js` on the order page). */
  scripts?: string[];
  /** Admin pages show the admin navigation. */
  admin?: boolean;
}

function NavLink(props: { href: string; path: string; children: Child; exact?: boolean }) {
  const current = props.exact ? props.path === props.href : props.path.startsWith(props.href);
  return (
    <li>
      <a href={props.href} aria-current={current ? "page" : undefined}>{props.children}</a>
    </li>
  );
}

/** The page frame. */
export function Layout(props: LayoutProps) {
  const { ctx } = props;
  const s = ctx.session;
  const next = encodeURIComponent(ctx.path);
  const count = ctx.cartCount;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · Stocklet`}</title>
        <meta
          name="description"
          content="Stocklet: an event-driven shop where you can watch every order's saga live."
        />
        <link rel="icon" href={ctx.assets.url("favicon.svg")} type="image/svg+xml" />
        <link rel="stylesheet" href={ctx.assets.url("app.css")} />
        <script type="module" src={ctx.assets.url("app.js")}></script>
        {(props.scripts ?? []).map((name) => (
          <script type="module" src={ctx.assets.url(name)}></script>
        ))}
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <div class="wrap bar">
            <a class="brand" href="/">Stocklet</a>
            <nav aria-label="Main">
              <ul>
                <NavLink href="/" path={ctx.path} exact>Catalogue</NavLink>
                {s && <NavLink href="/orders" path={ctx.path}>Orders</NavLink>}
                {s && <NavLink href="/account" path={ctx.path}>Balance</NavLink>}
                {s && ctx.features.notifications && (
                  <NavLink href="/notifications" path={ctx.path}>Notifications</NavLink>
                )}
                {s?.admin && <NavLink href="/admin" path={ctx.path}>Admin</NavLink>}
              </ul>
            </nav>
            <div class="account">
              <a href="/cart" class="cart-link" aria-describedby="cart-count">
                Cart<span class="badge" data-cart-badge aria-hidden="true" hidden={count === 0}>
                  {count}
                </span>
              </a>
              <span id="cart-count" class="visually-hidden" data-cart-count>
                {count === 1 ? "1 item" : `${count} items`}
              </span>
              {s
                ? (
                  <>
                    <span class="who">{s.name ?? "Signed in"}</span>
                    <form method="post" action="/logout" class="inline">
                      <button type="submit" class="link">Log out</button>
                    </form>
                  </>
                )
                : (
                  <>
                    <a href={`/login?next=${next}`}>Log in</a>
                    <a href={`/register?next=${next}`} class="button small">Register</a>
                  </>
                )}
            </div>
          </div>
          {props.admin && (
            <div class="wrap">
              <nav aria-label="Admin" class="subnav">
                <ul>
                  <NavLink href="/admin/orders" path={ctx.path}>All orders</NavLink>
                  <NavLink href="/admin/products" path={ctx.path}>Products and stock</NavLink>
                  <NavLink href="/admin/customers" path={ctx.path}>Customers and balances</NavLink>
                  <NavLink href="/admin/dead-letters" path={ctx.path}>Dead letters</NavLink>
                </ul>
              </nav>
            </div>
          )}
        </header>
        <main id="main" class="wrap" tabindex={-1}>
          {props.children}
        </main>
        <footer class="wrap foot">
          <p>Stocklet: seven services, one saga per order, each step live on the order's page.</p>
        </footer>
        <div id="announce" role="status" aria-live="polite"></div>
      </body>
    </html>
  );
}

/** Money. */
export function Money(props: { cents: string | bigint | undefined }) {
  return <span class="money">{formatCents(props.cents ?? 0n)}</span>;
}

/** An order status in words. */
export function StatusBadge(props: { status: string; id?: string; live?: boolean }) {
  return (
    <strong
      id={props.id}
      class={`status ${statusClass(props.status)}`}
      data-status={props.status}
      role={props.live ? "status" : undefined}
      aria-live={props.live ? "polite" : undefined}
    >
      {statusWord(props.status)}
    </strong>
  );
}

/** A date and time, readable, with the exact instant for machines. */
export function When(props: { at: string | Date | undefined }) {
  if (!props.at) return <span>—</span>;
  const d = new Date(props.at);
  const text = d.toISOString().replace("T", " ").slice(0, 19) + " UTC";
  return <time datetime={d.toISOString()}>{text}</time>;
}

/** A link to the next page of a list, if there is one. */
export function Pager(props: { next: string | undefined; href: (token: string) => string }) {
  if (!props.next) return null;
  return (
    <nav aria-label="Pages" class="pager">
      <a href={props.href(props.next)} rel="next">Next page</a>
    </nav>
  );
}

/** A message at the top of a page (`role="alert"` for problems). */
export function Notice(props: { kind: "info" | "error"; children: Child }) {
  return (
    <p class={`notice notice-${props.kind}`} role={props.kind === "error" ? "alert" : undefined}>
      {props.children}
    </p>
  );
}

/** A short form of an id (its first 8 characters), with the whole id on hover. */
export function ShortId(props: { id: string }) {
  return <code title={props.id}>{shortId(props.id)}</code>;
}

/**
 * The error line of a form driven by app.js (`data-api`): it shows what the API answered, and
 * field errors go next to their fields (`<id>-error`).
 */
export function FormError() {
  return <p class="form-error" data-form-error role="alert"></p>;
}

/** A labelled input with its error line. */
export function Field(props: {
  id: string;
  name: string;
  label: string;
  type?: string;
  value?: string;
  required?: boolean;
  autocomplete?: string;
  json?: "cents" | "int";
  min?: string;
  max?: string;
  inputmode?: "decimal" | "numeric";
  hint?: string;
  size?: "small";
}) {
  const describedBy = [`${props.id}-error`, props.hint ? `${props.id}-hint` : ""].filter(Boolean)
    .join(" ");
  return (
    <div class={`field${props.size ? " field-small" : ""}`}>
      <label for={props.id}>{props.label}</label>
      <input
        id={props.id}
        name={props.name}
        type={props.type ?? "text"}
        value={props.value}
        required={props.required}
        autocomplete={props.autocomplete}
        data-json={props.json}
        min={props.min}
        max={props.max}
        inputmode={props.inputmode}
        aria-describedby={describedBy}
      />
      {props.hint && <span id={`${props.id}-hint`} class="hint">{props.hint}</span>}
      <span id={`${props.id}-error`} class="field-error" data-field-error={props.name}></span>
    </div>
  );
}
