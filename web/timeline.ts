/**
 * An order's life as a person reads it: each event of its saga, its fulfilment (dispatch,
 * delivery) and its cancellation becomes one step of its timeline (which service did what, and
 * whether it moved the order on, failed it, or undid something), and a rejected or cancelled
 * order's steps add up to what was given back. Pure: the reactions store the steps, the order page
 * renders them.
 * @module
 */
import { events } from "@stocklet/shared/proto";
import { formatCents } from "./money.ts";
import { rejectReasonWords, type StatusName } from "./status.ts";

/** What a step did to the saga. */
export type StepKind = "progress" | "failure" | "compensation" | "outcome";

/** What a step is about, kept as data so that it can be told with product names later. */
export interface StepDetail {
  /** Product id → quantity. */
  items?: Record<string, number>;
  /** The products concerned (unknown ones, ones short of stock). */
  products?: string[];
  /** An amount of money in cents, as a decimal string. */
  amountCents?: string;
  shipmentId?: string;
  /** The carrier of a dispatched shipment. */
  carrier?: string;
  /** The carrier's tracking number of a dispatched shipment. */
  trackingNumber?: string;
  /** Why it failed: a rejection's reason name, or a payment's failure reason. */
  reason?: string;
}

/** One step of an order's saga. */
export interface TimelineStep {
  orderId: string;
  /** The service that took the step (the event's producer). */
  service: string;
  /** What happened, e.g. `stock.reserved`. */
  step: string;
  kind: StepKind;
  /** The order status the step moved the order to, if it did. */
  status?: StatusName;
  detail: StepDetail;
}

/** A stored step: when it happened and its event id. */
export interface StoredStep extends TimelineStep {
  eventId: string;
  at: Date;
}

const Quote = events.ProductPriceQuoteEvent_Type;
const Stock = events.StockReservationEvent_Type;
const Allocation = events.ShipmentAllocationEvent_Type;
const Payment = events.PaymentProcessedEvent_Type;

/** An `OrderRejectedEvent` reason's name (`REASON_INSUFFICIENT_STOCK`). */
function reasonName(reason: events.OrderRejectedEvent_Reason): string {
  return events.OrderRejectedEvent_ReasonSchema.values.find((v) => v.number === reason)?.name ??
    "REASON_UNSPECIFIED";
}

/** `order.state.created`: the order was placed. */
export function placedStep(e: events.OrderCreatedEvent): TimelineStep {
  return {
    orderId: e.orderId,
    service: "order",
    step: "order.placed",
    kind: "progress",
    status: "ORDER_STATUS_PROCESSING",
    detail: { items: { ...e.itemQuantities } },
  };
}

/** `product.pricequotation`: the items were priced, or one is not sold. */
export function quoteStep(e: events.ProductPriceQuoteEvent): TimelineStep | undefined {
  const base = { orderId: e.orderId, service: "product" };
  if (e.type === Quote.AVAILABLE) {
    return {
      ...base,
      step: "price.quoted",
      kind: "progress",
      detail: { items: { ...e.productQuantities }, amountCents: String(e.totalPriceCents) },
    };
  }
  if (e.type === Quote.UNAVAILABLE) {
    return {
      ...base,
      step: "price.unavailable",
      kind: "failure",
      detail: { products: [...e.unavailableProducts] },
    };
  }
  return undefined;
}

/** `order.state.pending`: priced, awaiting stock, shipment and payment. */
export function pendingStep(e: events.OrderPendingEvent): TimelineStep {
  return {
    orderId: e.orderId,
    service: "order",
    step: "order.pending",
    kind: "progress",
    status: "ORDER_STATUS_PENDING",
    detail: { amountCents: String(e.totalPriceCents) },
  };
}

/** `warehouse.reservation.*`: stock reserved, short, returned or consumed. */
export function reservationStep(e: events.StockReservationEvent): TimelineStep | undefined {
  const base = { orderId: e.orderId, service: "warehouse" };
  const items = { ...e.reservationStock };
  switch (e.type) {
    case Stock.STOCK_RESERVED:
      return { ...base, step: "stock.reserved", kind: "progress", detail: { items } };
    case Stock.INSUFFICIENT_STOCK:
      return {
        ...base,
        step: "stock.short",
        kind: "failure",
        detail: { products: [...e.insufficientStock] },
      };
    case Stock.STOCK_RETURNED:
      return { ...base, step: "stock.returned", kind: "compensation", detail: { items } };
    case Stock.STOCK_CONSUMED:
      return { ...base, step: "stock.consumed", kind: "progress", detail: { items } };
    default:
      return undefined;
  }
}

/** `shipping.shipment.allocation` (allocated, released) and `.failed` (impossible). */
export function allocationStep(e: events.ShipmentAllocationEvent): TimelineStep | undefined {
  const base = { orderId: e.orderId, service: "shipping" };
  switch (e.type) {
    case Allocation.ALLOCATED:
      return {
        ...base,
        step: "shipment.allocated",
        kind: "progress",
        detail: { shipmentId: e.shipmentId },
      };
    case Allocation.FAILED:
      return {
        ...base,
        step: "shipment.failed",
        kind: "failure",
        detail: { items: { ...e.productQuantities } },
      };
    case Allocation.ALLOCATION_RELEASED:
      return {
        ...base,
        step: "shipment.released",
        kind: "compensation",
        detail: { shipmentId: e.shipmentId },
      };
    default:
      return undefined;
  }
}

/** The carrier and tracking number of a shipment event, those it names. */
function carriage(e: { carrier: string; trackingNumber: string }): StepDetail {
  return {
    ...(e.carrier ? { carrier: e.carrier } : {}),
    ...(e.trackingNumber ? { trackingNumber: e.trackingNumber } : {}),
  };
}

/**
 * `shipping.shipment.dispatched`: the shipment left the warehouse with a carrier, and the order
 * follows it to SHIPPED (also a CANCELLING order: the dispatch reached the shipment first).
 */
export function dispatchedStep(e: events.ShipmentDispatchedEvent): TimelineStep {
  return {
    orderId: e.orderId,
    service: "shipping",
    step: "shipment.dispatched",
    kind: "progress",
    status: "ORDER_STATUS_SHIPPED",
    detail: { shipmentId: e.shipmentId, items: { ...e.productQuantities }, ...carriage(e) },
  };
}

/** `shipping.shipment.delivered`: the carrier delivered it; the order is COMPLETED. */
export function deliveredStep(e: events.ShipmentDeliveredEvent): TimelineStep {
  return {
    orderId: e.orderId,
    service: "shipping",
    step: "shipment.delivered",
    kind: "outcome",
    status: "ORDER_STATUS_COMPLETED",
    detail: { shipmentId: e.shipmentId, ...carriage(e) },
  };
}

/**
 * `order.state.cancelling`: the customer (or an admin) cancelled a paid order; shipping decides
 * whether the shipment can still be stopped.
 */
export function cancellingStep(e: events.OrderCancellingEvent): TimelineStep {
  return {
    orderId: e.orderId,
    service: "order",
    step: "order.cancelling",
    kind: "progress",
    status: "ORDER_STATUS_CANCELLING",
    detail: {
      amountCents: String(e.totalPriceCents),
      ...(e.shipmentId ? { shipmentId: e.shipmentId } : {}),
    },
  };
}

/**
 * `shipping.shipment.cancelled`: the cancellation won, the shipment was released and will never
 * leave (the warehouse returns the stock and payment refunds on it).
 */
export function shipmentCancelledStep(e: events.ShipmentCancelledEvent): TimelineStep {
  return {
    orderId: e.orderId,
    service: "shipping",
    step: "shipment.cancelled",
    kind: "compensation",
    detail: {
      items: { ...e.productQuantities },
      ...(e.shipmentId ? { shipmentId: e.shipmentId } : {}),
    },
  };
}

/** `order.state.cancelled`: every participant undid its part; the amount refunded. */
export function cancelledStep(e: events.OrderCancelledEvent): TimelineStep {
  return {
    orderId: e.orderId,
    service: "order",
    step: "order.cancelled",
    kind: "outcome",
    status: "ORDER_STATUS_CANCELLED",
    detail: { amountCents: String(e.refundedCents) },
  };
}

/** `payment.processing`: payment taken or refused. */
export function paymentStep(e: events.PaymentProcessedEvent): TimelineStep | undefined {
  const base = { orderId: e.orderId, service: "payment" };
  const amountCents = String(e.amountCents);
  if (e.type === Payment.SUCCESS) {
    return { ...base, step: "payment.taken", kind: "progress", detail: { amountCents } };
  }
  if (e.type === Payment.FAILED) {
    return {
      ...base,
      step: "payment.failed",
      kind: "failure",
      detail: { amountCents, ...(e.failureReason ? { reason: e.failureReason } : {}) },
    };
  }
  return undefined;
}

/** `payment.transaction.reversed`: a payment was refunded. */
export function refundStep(e: events.TransactionReversedEvent): TimelineStep {
  return {
    orderId: e.orderId,
    service: "payment",
    step: "payment.refunded",
    kind: "compensation",
    detail: { amountCents: String(e.amountCents) },
  };
}

/** `order.state.approved`. */
export function approvedStep(e: events.OrderApprovedEvent): TimelineStep {
  return {
    orderId: e.orderId,
    service: "order",
    step: "order.approved",
    kind: "outcome",
    status: "ORDER_STATUS_APPROVED",
    detail: { amountCents: String(e.totalPriceCents) },
  };
}

/** `order.state.rejected`. */
export function rejectedStep(e: events.OrderRejectedEvent): TimelineStep {
  return {
    orderId: e.orderId,
    service: "order",
    step: "order.rejected",
    kind: "outcome",
    status: "ORDER_STATUS_REJECTED",
    detail: { reason: reasonName(e.reason) },
  };
}

/**
 * An id shortened for people: its last 8 characters. Ids are UUIDv7, whose first characters are a
 * timestamp shared by everything made in the same minute; the end is random.
 *
 * @example
 * ```ts
 * shortId("01a22e13-0188-7000-b909-aed44d9a9e0a"); // "4d9a9e0a"
 * ```
 */
export function shortId(id: string): string {
  return id.slice(-8);
}

/** Names products for the page; an unknown one by its short id. */
export type ProductNames = ReadonlyMap<string, string>;

function nameOf(id: string, names: ProductNames): string {
  return names.get(id) ?? `product ${shortId(id)}`;
}

function itemsText(items: Record<string, number> | undefined, names: ProductNames): string {
  const parts = Object.entries(items ?? {}).map(([id, n]) => `${n} × ${nameOf(id, names)}`);
  return parts.length ? parts.join(", ") : "the items";
}

function productsText(ids: readonly string[] | undefined, names: ProductNames): string {
  const parts = (ids ?? []).map((id) => nameOf(id, names));
  return parts.length ? parts.join(", ") : "some items";
}

function money(cents: string | undefined): string {
  return cents === undefined ? "" : formatCents(cents);
}

/** ` with DHL Express, tracking number JD014600` (what the shipment event named of it). */
function carriageText(d: StepDetail, by: "with" | "by"): string {
  const carrier = d.carrier ? ` ${by} ${d.carrier}` : "";
  const tracking = d.trackingNumber ? `, tracking number ${d.trackingNumber}` : "";
  return carrier + tracking;
}

/**
 * A step in a sentence, with product names.
 *
 * @example
 * ```ts
 * describeStep(step, new Map([[teapotId, "Teapot"]])); // "Reserved 2 × Teapot"
 * ```
 */
export function describeStep(s: TimelineStep, names: ProductNames): string {
  const d = s.detail;
  switch (s.step) {
    case "order.placed":
      return `Order placed for ${itemsText(d.items, names)}`;
    case "price.quoted":
      return `Priced the items: ${money(d.amountCents)} in total`;
    case "price.unavailable":
      return `Could not price ${productsText(d.products, names)}: no longer sold`;
    case "order.pending":
      // Priced as it was placed, an order has no quote step before this one: the total shows here.
      return d.amountCents === undefined
        ? "Order pending: waiting for stock, a shipment and payment"
        : `Order pending at ${money(d.amountCents)}: waiting for stock, a shipment and payment`;
    case "stock.reserved":
      return `Reserved ${itemsText(d.items, names)}`;
    case "stock.short":
      return `Not enough stock of ${productsText(d.products, names)}`;
    case "stock.returned":
      return `Returned the reserved stock (${itemsText(d.items, names)})`;
    case "stock.consumed":
      return `The reserved stock left the warehouse (${itemsText(d.items, names)})`;
    case "shipment.allocated":
      return `Allocated shipment ${shortId(d.shipmentId ?? "")}`;
    case "shipment.failed":
      return "Could not allocate a shipment: more units than one shipment carries";
    case "shipment.released":
      return `Released shipment ${shortId(d.shipmentId ?? "")}`;
    case "shipment.dispatched":
      return `Dispatched shipment ${shortId(d.shipmentId ?? "")}${carriageText(d, "with")}`;
    case "shipment.delivered":
      return `Delivered shipment ${shortId(d.shipmentId ?? "")}${carriageText(d, "by")}`;
    case "shipment.cancelled":
      return d.shipmentId
        ? `Released shipment ${shortId(d.shipmentId)}: stopped before it left`
        : "No shipment to stop";
    case "payment.taken":
      return `Took payment of ${money(d.amountCents)}`;
    case "payment.failed":
      return `Payment of ${money(d.amountCents)} failed: ${d.reason ?? "refused"}`;
    case "payment.refunded":
      return `Refunded ${money(d.amountCents)}`;
    case "order.approved":
      return "Order approved";
    case "order.rejected":
      return `Order rejected: ${rejectReasonWords(d.reason ?? "")}`;
    case "order.cancelling":
      return `Cancellation asked for: the shipment is to be stopped, the stock returned and ${
        money(d.amountCents)
      } refunded`;
    case "order.cancelled":
      return `Order cancelled: ${money(d.amountCents)} refunded`;
    default:
      return s.step;
  }
}

/** One thing a rejected or cancelled order had done for it, and whether it was undone yet. */
export interface Undo {
  /** What was done, e.g. "Stock reserved". */
  done: string;
  /** What undoes it, e.g. "returned". */
  undo: string;
  undone: boolean;
}

/**
 * What a failed or cancelled order had taken (stock, a shipment, a payment) and whether each was
 * given back, read from its steps. Empty when nothing was taken. A shipment is released by a
 * rejection (`shipment.released`) or stopped by a cancellation (`shipment.cancelled`).
 */
export function compensations(steps: readonly TimelineStep[]): Undo[] {
  const has = (step: string) => steps.some((s) => s.step === step);
  const out: Undo[] = [];
  if (has("stock.reserved")) {
    out.push({ done: "Stock reserved", undo: "returned", undone: has("stock.returned") });
  }
  if (has("shipment.allocated")) {
    out.push({
      done: "Shipment allocated",
      undo: "released",
      undone: has("shipment.released") || has("shipment.cancelled"),
    });
  }
  if (has("payment.taken")) {
    out.push({ done: "Payment taken", undo: "refunded", undone: has("payment.refunded") });
  }
  return out;
}

/** Why a failed order failed, from its failure steps (the most specific words there are). */
export function failureText(
  steps: readonly TimelineStep[],
  names: ProductNames,
): string | undefined {
  const failure = steps.find((s) => s.kind === "failure");
  return failure ? describeStep(failure, names) : undefined;
}
