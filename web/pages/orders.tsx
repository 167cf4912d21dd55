/**
 * A customer's orders, and one order with its life: the status in words, why it failed or what a
 * cancellation gave back, its shipment (carrier, tracking number), and a timeline of what each
 * service did and when, kept live by live.js over server-sent events (the server renders each
 * update with {@linkcode SagaParts}).
 * @module
 */
import type { Child } from "hono/jsx";
import type { OrderJson } from "../api.ts";
import { cancellable, laterStatus, statusRank } from "../status.ts";
import {
  compensations,
  describeStep,
  failureText,
  type ProductNames,
  shortId,
  type StoredStep,
  type Undo,
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

/**
 * Who the order waits for now, if anything will still move it and nothing failed: a service of
 * the place-order saga, the dispatch or the delivery, or the participants of a cancellation.
 */
export function waitingFor(status: string, steps: readonly StoredStep[]): string | undefined {
  if (steps.some((s) => s.kind === "failure")) return undefined;
  const done = new Set(steps.map((s) => s.step));
  switch (status) {
    case "ORDER_STATUS_APPROVED":
      return "the shipment to leave the warehouse";
    case "ORDER_STATUS_SHIPPED":
      return "the carrier to deliver it";
    case "ORDER_STATUS_CANCELLING": {
      if (!done.has("shipment.cancelled")) return "shipping to stop the shipment";
      const left = [
        done.has("stock.returned") ? "" : "the warehouse to return the stock",
        done.has("payment.refunded") ? "" : "payment to refund the money",
      ].filter(Boolean);
      return left.length ? left.join(" and ") : "the order service to close the cancellation";
    }
  }
  if (statusRank(status) > 2) return undefined;
  // The step after the furthest one done: an order priced as it was placed has no "placed" or
  // "quoted" step, and a later step's event may arrive before an earlier one's.
  const furthest = WAITING.findLastIndex(([step]) => done.has(step));
  return WAITING[furthest + 1]?.[1];
}

/** What is known of an order's shipment once it left: from the order, or the shipping events. */
export interface ShipmentView {
  shipmentId?: string;
  carrier?: string;
  trackingNumber?: string;
  shippedAt?: Date;
  deliveredAt?: Date;
}

/**
 * The order's shipment after dispatch, or undefined before. Shipping's events usually reach the
 * page before the order service has recorded them, so the steps fill in what the order lacks.
 */
export function shipmentOf(
  order: OrderJson,
  steps: readonly StoredStep[],
): ShipmentView | undefined {
  const dispatched = steps.find((s) => s.step === "shipment.dispatched");
  const delivered = steps.find((s) => s.step === "shipment.delivered");
  if (!dispatched && !delivered && !order.shippedAt) return undefined;
  const d = { ...delivered?.detail, ...dispatched?.detail };
  const shippedAt = order.shippedAt ? new Date(order.shippedAt) : dispatched?.at;
  const deliveredAt = order.deliveredAt ? new Date(order.deliveredAt) : delivered?.at;
  const shipmentId = order.shippingId || d.shipmentId;
  const carrier = order.carrier || d.carrier;
  const trackingNumber = order.trackingNumber || d.trackingNumber;
  return {
    ...(shipmentId ? { shipmentId } : {}),
    ...(carrier ? { carrier } : {}),
    ...(trackingNumber ? { trackingNumber } : {}),
    ...(shippedAt ? { shippedAt } : {}),
    ...(deliveredAt ? { deliveredAt } : {}),
  };
}

/**
 * What a cancelled order gave back to the balance, in cents: the order's own figure once
 * CANCELLED, else what the events said (the order's cancellation, or payment's refund).
 */
export function refundOf(order: OrderJson, steps: readonly StoredStep[]): string | undefined {
  if (order.refundedCents && order.refundedCents !== "0") return order.refundedCents;
  return steps.find((s) => s.step === "order.cancelled")?.detail.amountCents ??
    steps.find((s) => s.step === "payment.refunded")?.detail.amountCents;
}

/** The shipment's carrier, tracking number and times. */
function Shipment(props: { shipment: ShipmentView }) {
  const s = props.shipment;
  return (
    <section class="shipment" data-shipment aria-labelledby="shipment-h">
      <h3 id="shipment-h">Delivery</h3>
      <dl class="facts">
        {s.shipmentId && (
          <>
            <dt>Shipment</dt>
            <dd>
              <ShortId id={s.shipmentId} />
            </dd>
          </>
        )}
        <dt>Carrier</dt>
        <dd data-carrier>{s.carrier ?? "—"}</dd>
        <dt>Tracking number</dt>
        <dd data-tracking>{s.trackingNumber ? <code>{s.trackingNumber}</code> : "—"}</dd>
        <dt>Shipped</dt>
        <dd>
          <When at={s.shippedAt} />
        </dd>
        <dt>Delivered</dt>
        <dd data-delivered>
          {s.deliveredAt ? <When at={s.deliveredAt} /> : "not yet: on its way"}
        </dd>
      </dl>
    </section>
  );
}

/** What a rejected or cancelled order had taken, and whether each was given back yet. */
function GivenBack(props: { title: string; undo: readonly Undo[]; children?: Child }) {
  return (
    <section class="undo" aria-labelledby="undo-h">
      <h3 id="undo-h">{props.title}</h3>
      {props.undo.length > 0 && (
        <ul>
          {props.undo.map((u) => (
            <li class={u.undone ? "undone" : "undoing"}>
              {u.done}: {u.undone ? `${u.undo} ✓` : `being ${u.undo}…`}
            </li>
          ))}
        </ul>
      )}
      {props.children}
    </section>
  );
}

/**
 * The live part of the order page: why it failed or what its cancellation gave back, its
 * shipment, the timeline, who is next.
 */
export function SagaParts(props: {
  order: OrderJson;
  steps: readonly StoredStep[];
  names: ProductNames;
}) {
  const { order, steps, names } = props;
  const status = currentStatus(order, steps);
  const failed = status === "ORDER_STATUS_REJECTED";
  const cancelled = status === "ORDER_STATUS_CANCELLING" || status === "ORDER_STATUS_CANCELLED";
  const why = failureText(steps, names);
  const undo = compensations(steps);
  const refund = cancelled ? refundOf(order, steps) : undefined;
  const shipment = shipmentOf(order, steps);
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
        <GivenBack title="Compensation" undo={undo}>
          {undo.length === 0 && (
            <p>
              Nothing to undo: no stock was reserved, no shipment allocated and no payment taken.
            </p>
          )}
        </GivenBack>
      )}
      {cancelled && (
        <GivenBack title="Cancellation" undo={undo}>
          {refund && (
            <p class="refund" data-refund>
              Refunded <Money cents={refund} /> to the balance.
            </p>
          )}
        </GivenBack>
      )}
      {shipment && <Shipment shipment={shipment} />}
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
            data-then="hide"
            data-done="Cancellation requested: the services are undoing the order."
            class="cancel"
            data-cancel
            hidden={!cancellable(status, !!order.cancelRequestedAt)}
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
