/**
 * A customer's orders, and one order with its saga: the status in words, why it failed and what
 * was undone, and a timeline of what each service did and when, kept live by live.js over
 * server-sent events (the server renders each update with {@linkcode SagaParts}).
 * @module
 */
import type { OrderJson } from "../api.ts";
import { cancellable, laterStatus, statusRank } from "../status.ts";
import {
  compensations,
  describeStep,
  failureText,
  type ProductNames,
  shortId,
  type StoredStep,
} from "../timeline.ts";
import {
  FormError,
  Layout,
  Money,
  type PageContext,
  Pager,
  ShortId,
  StatusBadge,
  When,
} from "./layout.tsx";

/** The order's status as far as anyone knows: the order service's, or a later step's. */
export function currentStatus(order: OrderJson, steps: readonly StoredStep[]): string {
  let status = order.status;
  for (const s of steps) if (s.status) status = laterStatus(status, s.status);
  return status;
}

const WAITING: ReadonlyArray<[string, string]> = [
  ["order.placed", "the order service"],
  ["price.quoted", "the product service to price the items"],
  ["order.pending", "the order service"],
  ["stock.reserved", "the warehouse to reserve stock"],
  ["shipment.allocated", "shipping to allocate a shipment"],
  ["payment.taken", "payment to take the money"],
  ["order.approved", "the order service to approve"],
];

/** Who the saga waits for now, if it is still running and nothing failed. */
export function waitingFor(status: string, steps: readonly StoredStep[]): string | undefined {
  if (statusRank(status) > 2 || steps.some((s) => s.kind === "failure")) return undefined;
  const done = new Set(steps.map((s) => s.step));
  return WAITING.find(([step]) => !done.has(step))?.[1];
}

/** The live part of the order page: why, what was undone, the timeline, who is next. */
export function SagaParts(props: {
  order: OrderJson;
  steps: readonly StoredStep[];
  names: ProductNames;
}) {
  const { order, steps, names } = props;
  const status = currentStatus(order, steps);
  const failed = status === "ORDER_STATUS_REJECTED";
  const why = failureText(steps, names);
  const undo = compensations(steps);
  const t0 = steps[0]?.at.getTime();
  const waiting = waitingFor(status, steps);
  return (
    <div id="saga-parts" data-status={status}>
      {failed && (
        <p class="why">
          <strong>Why:</strong> {why ?? describeStep({
            orderId: order.id,
            service: "order",
            step: "order.rejected",
            kind: "outcome",
            detail: { reason: order.rejectReason ?? "" },
          }, names)}
        </p>
      )}
      {failed && (
        <section class="undo" aria-labelledby="undo-h">
          <h3 id="undo-h">Compensation</h3>
          {undo.length === 0
            ? (
              <p>
                Nothing to undo: no stock was reserved, no shipment allocated and no payment taken.
              </p>
            )
            : (
              <ul>
                {undo.map((u) => (
                  <li class={u.undone ? "undone" : "undoing"}>
                    {u.done}: {u.undone ? `${u.undo} ✓` : `being ${u.undo}…`}
                  </li>
                ))}
              </ul>
            )}
        </section>
      )}
      <ol class="timeline" aria-label="What each service did">
        {steps.map((s) => (
          <li class={`step step-${s.kind}`} data-event={s.eventId}>
            <span class={`svc svc-${s.service}`}>{s.service}</span>
            <span class="what">
              {s.kind === "compensation" && <span class="tag">undo</span>}
              {describeStep(s, names)}
            </span>
            <time datetime={s.at.toISOString()} title={s.at.toISOString()}>
              {t0 === undefined ? "" : `+${((s.at.getTime() - t0) / 1000).toFixed(3)} s`}
            </time>
          </li>
        ))}
      </ol>
      {steps.length === 0 && <p class="waiting">The first step is on its way…</p>}
      {waiting && steps.length > 0 && <p class="waiting">Waiting for {waiting}…</p>}
    </div>
  );
}

/** The order's items with the prices of its quote (live: they arrive with the quote). */
export function OrderItems(props: { order: OrderJson; names: ProductNames }) {
  const { order, names } = props;
  const priced = order.totalPriceCents !== undefined && order.totalPriceCents !== "0";
  return (
    <table class="lines" id="order-items">
      <thead>
        <tr>
          <th scope="col">Product</th>
          <th scope="col" class="num">Quantity</th>
          <th scope="col" class="num">Unit price</th>
          <th scope="col" class="num">Line total</th>
        </tr>
      </thead>
      <tbody>
        {Object.entries(order.items ?? {}).map(([id, n]) => {
          const unit = order.unitPricesCents?.[id];
          return (
            <tr>
              <th scope="row">
                <a href={`/products/${id}`}>{names.get(id) ?? `Product ${shortId(id)}`}</a>
              </th>
              <td class="num">{n}</td>
              <td class="num">{unit ? <Money cents={unit} /> : "not priced yet"}</td>
              <td class="num">{unit ? <Money cents={BigInt(unit) * BigInt(n)} /> : "—"}</td>
            </tr>
          );
        })}
      </tbody>
      {priced && (
        <tfoot>
          <tr>
            <th scope="row" colspan={3}>Total</th>
            <td class="num" data-order-total>
              <Money cents={order.totalPriceCents} />
            </td>
          </tr>
        </tfoot>
      )}
    </table>
  );
}

/** How to see an order's trace: a link (Jaeger in compose), or the dev command. */
function Trace(props: { orderId: string; traceUrl: string }) {
  if (props.traceUrl) {
    const href = props.traceUrl.replaceAll("{order_id}", encodeURIComponent(props.orderId));
    return (
      <p>
        <a href={href} rel="noopener">Open this order's trace</a>{" "}
        (every hop of the saga: HTTP, SQL, the outbox, Kafka).
      </p>
    );
  }
  const cmd = `deno task trace ${props.orderId}`;
  return (
    <p>
      Every hop of the saga (HTTP, SQL, the outbox, Kafka) as one trace: run{" "}
      <code id="trace-cmd">{cmd}</code>{" "}
      <button type="button" class="small secondary" data-copy="trace-cmd">Copy</button>
    </p>
  );
}

/** One order. */
export function OrderPage(props: {
  ctx: PageContext;
  order: OrderJson;
  steps: readonly StoredStep[];
  names: ProductNames;
  traceUrl: string;
}) {
  const { ctx, order, names } = props;
  const status = currentStatus(order, props.steps);
  return (
    <Layout ctx={ctx} title={`Order ${shortId(order.id)}`} scripts={["live.js"]}>
      <p class="crumbs">
        <a href={ctx.path.startsWith("/admin") ? "/admin/orders" : "/orders"}>Orders</a>
      </p>
      <h1>
        Order <ShortId id={order.id} />
      </h1>
      <p class="meta">
        Placed <When at={order.createdAt} />
      </p>
      <section
        id="saga"
        class="saga"
        aria-labelledby="saga-h"
        data-order={order.id}
        data-events={`/events/orders/${order.id}`}
      >
        <h2 id="saga-h">
          Status: <StatusBadge id="order-status" status={status} live />
        </h2>
        <SagaParts order={order} steps={props.steps} names={names} />
        {ctx.features.cancel && (
          <form
            data-api="POST /v1/order/orders/{order_id}/cancel"
            data-then="stay"
            data-done="Cancellation requested: the services are undoing the order."
            class="cancel"
            data-cancel
            hidden={!cancellable(status)}
          >
            <input type="hidden" name="order_id" value={order.id} />
            <FormError />
            <button type="submit" class="danger">Cancel order</button>
          </form>
        )}
      </section>
      <section aria-labelledby="items-h">
        <h2 id="items-h">Items</h2>
        <OrderItems order={order} names={names} />
      </section>
      <section aria-labelledby="trace-h">
        <h2 id="trace-h">Trace</h2>
        <Trace orderId={order.id} traceUrl={props.traceUrl} />
      </section>
    </Layout>
  );
}

/** A table of orders (a customer's own, or all of them for an admin). */
export function OrdersTable(props: {
  orders: readonly OrderJson[];
  customers?: ReadonlyMap<string, string>;
  hrefOf: (o: OrderJson) => string;
}) {
  return (
    <table class="lines orders">
      <thead>
        <tr>
          <th scope="col">Order</th>
          <th scope="col">Placed</th>
          {props.customers && <th scope="col">Customer</th>}
          <th scope="col" class="num">Items</th>
          <th scope="col" class="num">Total</th>
          <th scope="col">Status</th>
        </tr>
      </thead>
      <tbody>
        {props.orders.map((o) => {
          const units = Object.values(o.items ?? {}).reduce((a, b) => a + b, 0);
          return (
            <tr>
              <th scope="row">
                <a href={props.hrefOf(o)} aria-label={`Order ${shortId(o.id)}`}>
                  <ShortId id={o.id} />
                </a>
              </th>
              <td>
                <When at={o.createdAt} />
              </td>
              {props.customers && (
                <td>{props.customers.get(o.customerId) ?? <ShortId id={o.customerId} />}</td>
              )}
              <td class="num">{units}</td>
              <td class="num">
                {o.totalPriceCents && o.totalPriceCents !== "0"
                  ? <Money cents={o.totalPriceCents} />
                  : "—"}
              </td>
              <td>
                <StatusBadge status={o.status} />
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** The signed-in customer's orders. */
export function OrdersPage(props: {
  ctx: PageContext;
  orders: readonly OrderJson[];
  next: string | undefined;
}) {
  return (
    <Layout ctx={props.ctx} title="Orders">
      <h1>Orders</h1>
      {props.orders.length === 0
        ? (
          <p>
            No orders yet. <a href="/">Browse the catalogue</a>.
          </p>
        )
        : <OrdersTable orders={props.orders} hrefOf={(o) => `/orders/${o.id}`} />}
      <Pager next={props.next} href={(t) => `/orders?page=${encodeURIComponent(t)}`} />
    </Layout>
  );
}
