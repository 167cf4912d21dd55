/**
 * The chaos suite's invariants, checked on a snapshot of the databases and topics taken once the
 * stack recovered and every consumer caught up. Pure: a snapshot in, one verdict per invariant out
 * (with the offending orders, customers or products named).
 * @module
 */

/** Order statuses (stocklet.order.v1.OrderStatus). */
export const OrderStatus = {
  PROCESSING: 1,
  PENDING: 2,
  REJECTED: 3,
  APPROVED: 4,
  COMPLETED: 5,
  SHIPPED: 6,
  CANCELLING: 7,
  CANCELLED: 8,
};
/** Reservation statuses (stocklet.warehouse.v1.ReservationStatus). */
export const ReservationStatus = {
  RESERVED: 1,
  CONSUMED: 2,
  RETURNED: 3,
  FAILED: 4,
  CANCELLED: 5,
};
/** Shipment statuses (stocklet.shipping.v1.ShipmentStatus). */
export const ShipmentStatus = {
  ALLOCATED: 1,
  RELEASED: 2,
  DISPATCHED: 3,
  FAILED: 4,
  CANCELLED: 5,
  DELIVERED: 6,
};

/** An order of the run, as the order database has it. */
export interface SnapOrder {
  id: string;
  customerId: string;
  status: number;
  totalCents: bigint | null;
  /** Creation time (epoch ms). */
  createdAt: number;
  /** Product id → quantity. */
  items: Record<string, number>;
  /** What its cancellation refunded (cancelled orders). */
  refundedCents?: bigint | null;
}

/** A terminal event of an order, as read from Kafka (CANCELLED: its cancellation's end). */
export interface SnapTerminal {
  orderId: string;
  status: "APPROVED" | "REJECTED" | "CANCELLED";
  eventId: string;
  /** Outbox commit time (epoch ms). */
  committedAt: number;
}

/** A dead-lettered record. */
export interface SnapDeadLetter {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  error: string;
  sourceTopic: string;
  consumer: string;
  /** Whether it concerns this run's orders, customers or products. */
  ours: boolean;
}

/** Everything the invariants look at. */
export interface ChaosSnapshot {
  /** Every order of the run's customers. */
  orders: SnapOrder[];
  /** Orders whose place request was answered 200 (id, answer time). */
  acknowledged: Array<{ id: string; at: number }>;
  /** Terminal events of the run's orders (redeliveries included). */
  terminals: SnapTerminal[];
  /** Payment transactions of the run's customers. */
  transactions: Array<{ orderId: string; amountCents: bigint; reversed: boolean }>;
  /** Customer → balance now. */
  balances: Record<string, bigint>;
  /** Customer → everything credited. */
  credits: Record<string, bigint>;
  /** Product → stock now. */
  stock: Record<string, number>;
  /** Product → units ever added. */
  added: Record<string, number>;
  reservations: Array<{ orderId: string; status: number }>;
  shipments: Array<{ orderId: string; status: number }>;
  /** Dead letters written during the run. */
  deadLetters: SnapDeadLetter[];
  /** When each disruption ended (epoch ms), ascending. */
  recoveries: number[];
  /** How long after its recovery an order may take to end. @default 60000 */
  graceMs?: number;
}

/** One invariant's verdict. */
export interface Verdict {
  name: string;
  ok: boolean;
  /** What was checked (counts). */
  detail: string;
  /** What broke it (at most a few dozen lines). */
  violations: string[];
}

const MAX_LINES = 25;

function verdict(name: string, detail: string, violations: string[]): Verdict {
  const shown = violations.slice(0, MAX_LINES);
  if (violations.length > MAX_LINES) shown.push(`… and ${violations.length - MAX_LINES} more`);
  return { name, ok: violations.length === 0, detail, violations: shown };
}

/** The deadline of an order created at `t`: grace after the first recovery at or after t. */
export function deadlineOf(t: number, recoveries: readonly number[], graceMs: number): number {
  const r = recoveries.find((x) => x >= t);
  return (r ?? t) + graceMs;
}

/** Whether an order came to rest: its saga ended, and so did any cancellation. */
function isTerminal(status: number): boolean {
  return status !== OrderStatus.PROCESSING && status !== OrderStatus.PENDING &&
    status !== OrderStatus.CANCELLING;
}

/** Whether an order was sold: approved, and maybe shipped or delivered since. */
function isApproved(status: number): boolean {
  return status === OrderStatus.APPROVED || status === OrderStatus.SHIPPED ||
    status === OrderStatus.COMPLETED;
}

const STATUS_NAMES = Object.fromEntries(Object.entries(OrderStatus).map(([k, v]) => [v, k]));

/** Checks every invariant. */
export function checkInvariants(s: ChaosSnapshot): Verdict[] {
  const grace = s.graceMs ?? 60_000;
  const out: Verdict[] = [];
  const orders = new Map(s.orders.map((o) => [o.id, o]));
  const approved = s.orders.filter((o) => isApproved(o.status));
  const rejected = s.orders.filter((o) => o.status === OrderStatus.REJECTED);
  const cancelled = s.orders.filter((o) => o.status === OrderStatus.CANCELLED);
  const eventsOf = new Map<string, SnapTerminal[]>();
  for (const e of s.terminals) {
    const list = eventsOf.get(e.orderId) ?? [];
    list.push(e);
    eventsOf.set(e.orderId, list);
  }

  // 1. An acknowledged order exists.
  {
    const v = s.acknowledged.filter((a) => !orders.has(a.id)).map((a) =>
      `order ${a.id} was acknowledged but is not in the order database`
    );
    out.push(verdict(
      "every acknowledged order was persisted",
      `${s.acknowledged.length} acknowledged, ${s.orders.length} in the database`,
      v,
    ));
  }

  // 2. Every order terminal, within the grace after the recovery that followed its creation.
  {
    const v: string[] = [];
    let worst = 0;
    for (const o of s.orders) {
      if (!isTerminal(o.status)) {
        v.push(`order ${o.id} is still ${STATUS_NAMES[o.status] ?? o.status}`);
        continue;
      }
      const evs = eventsOf.get(o.id) ?? [];
      if (evs.length === 0) {
        v.push(`order ${o.id} is terminal in the database but has no terminal event`);
        continue;
      }
      const first = Math.min(...evs.map((e) => e.committedAt));
      const deadline = deadlineOf(o.createdAt, s.recoveries, grace);
      const after = first - (deadline - grace);
      worst = Math.max(worst, after);
      if (first > deadline) {
        v.push(
          `order ${o.id} ended ${Math.round(after / 1000)} s after its recovery point (> ${
            grace / 1000
          } s)`,
        );
      }
    }
    out.push(verdict(
      `every accepted order terminal within ${grace / 1000} s of recovery`,
      `${s.orders.length} orders, ${approved.length} approved, ${rejected.length} rejected, ` +
        `${cancelled.length} cancelled; ` +
        `slowest ${Math.round(worst / 100) / 10} s after its recovery point`,
      v,
    ));
  }

  // 3. Approved at most once, and the status agrees with the events.
  {
    const v: string[] = [];
    let redelivered = 0;
    for (const o of s.orders) {
      const evs = eventsOf.get(o.id) ?? [];
      const ids = (st: string) => new Set(evs.filter((e) => e.status === st).map((e) => e.eventId));
      const a = ids("APPROVED");
      const r = ids("REJECTED");
      const c = ids("CANCELLED");
      redelivered += evs.length - a.size - r.size - c.size;
      if (a.size > 1) v.push(`order ${o.id} approved ${a.size} times (distinct events)`);
      if (a.size && r.size) v.push(`order ${o.id} has both an approved and a rejected event`);
      if (r.size > 1) v.push(`order ${o.id} rejected ${r.size} times (distinct events)`);
      if (c.size > 1) v.push(`order ${o.id} cancelled ${c.size} times (distinct events)`);
      if (isApproved(o.status) && a.size === 0) v.push(`order ${o.id} APPROVED without event`);
      if (o.status === OrderStatus.CANCELLED && c.size === 0) {
        v.push(`order ${o.id} CANCELLED without event`);
      }
      if (o.status !== OrderStatus.CANCELLED && c.size > 0) {
        v.push(`order ${o.id} is ${STATUS_NAMES[o.status]} but was announced cancelled`);
      }
      if (o.status === OrderStatus.REJECTED && a.size > 0) {
        v.push(`order ${o.id} is REJECTED but was announced approved`);
      }
      if (o.status === OrderStatus.REJECTED && r.size === 0) {
        v.push(`order ${o.id} REJECTED without event`);
      }
    }
    out.push(verdict(
      "no order approved or cancelled twice; status matches its events",
      `${s.terminals.length} terminal events read, ${redelivered} redeliveries of the same event`,
      v,
    ));
  }

  // 4. One live debit per approved order, none for rejected ones.
  {
    const live = new Map<string, Array<{ amountCents: bigint }>>();
    let reversed = 0;
    for (const t of s.transactions) {
      if (t.reversed) {
        reversed++;
        continue;
      }
      const l = live.get(t.orderId) ?? [];
      l.push(t);
      live.set(t.orderId, l);
    }
    const v: string[] = [];
    for (const o of approved) {
      const l = live.get(o.id) ?? [];
      if (l.length !== 1) v.push(`approved order ${o.id} has ${l.length} live debits`);
      else if (o.totalCents !== null && l[0]!.amountCents !== o.totalCents) {
        v.push(`approved order ${o.id} debited ${l[0]!.amountCents}, total ${o.totalCents}`);
      }
    }
    for (const o of [...rejected, ...cancelled]) {
      const l = live.get(o.id) ?? [];
      if (l.length) {
        v.push(
          `${STATUS_NAMES[o.status]?.toLowerCase()} order ${o.id} has ${l.length} live debits`,
        );
      }
    }
    for (const id of live.keys()) {
      if (!orders.has(id)) v.push(`a debit for order ${id}, which the order database lacks`);
    }
    out.push(verdict(
      "exactly one debit per approved order, none (net) per rejected or cancelled order",
      `${s.transactions.length} transactions (${reversed} reversed)`,
      v,
    ));
  }

  // 4b. Refunds: one per cancelled (paid) order, to the cent; none for a sold order.
  {
    const reversedOf = new Map<string, bigint[]>();
    for (const t of s.transactions) {
      if (!t.reversed) continue;
      reversedOf.set(t.orderId, [...(reversedOf.get(t.orderId) ?? []), t.amountCents]);
    }
    const v: string[] = [];
    for (const o of cancelled) {
      const r = reversedOf.get(o.id) ?? [];
      if (r.length !== 1) v.push(`cancelled order ${o.id} has ${r.length} refunds`);
      else if (o.totalCents !== null && r[0] !== o.totalCents) {
        v.push(`cancelled order ${o.id} refunded ${r[0]}, total ${o.totalCents}`);
      } else if (o.refundedCents !== undefined && o.refundedCents !== r[0]) {
        v.push(`cancelled order ${o.id} says ${o.refundedCents} refunded, payment ${r[0]}`);
      }
    }
    for (const o of approved) {
      if (reversedOf.has(o.id)) {
        v.push(`sold order ${o.id} (${STATUS_NAMES[o.status]}) was refunded`);
      }
    }
    out.push(verdict(
      "one refund per cancelled order, to the cent; none for a sold one",
      `${cancelled.length} cancelled orders`,
      v,
    ));
  }

  // 5. Balances.
  {
    const spent = new Map<string, bigint>();
    for (const o of approved) {
      spent.set(o.customerId, (spent.get(o.customerId) ?? 0n) + (o.totalCents ?? 0n));
    }
    const v: string[] = [];
    for (const [c, credited] of Object.entries(s.credits)) {
      const want = credited - (spent.get(c) ?? 0n);
      const have = s.balances[c];
      if (have !== want) v.push(`customer ${c}: balance ${have ?? "missing"}, expected ${want}`);
    }
    out.push(verdict(
      "each balance = credits − approved totals",
      `${Object.keys(s.credits).length} customers`,
      v,
    ));
  }

  // 6. Stock.
  {
    const sold = new Map<string, number>();
    for (const o of approved) {
      for (const [p, q] of Object.entries(o.items)) sold.set(p, (sold.get(p) ?? 0) + q);
    }
    const v: string[] = [];
    for (const [p, added] of Object.entries(s.added)) {
      const want = added - (sold.get(p) ?? 0);
      const have = s.stock[p];
      if (have !== want) v.push(`product ${p}: stock ${have ?? "missing"}, expected ${want}`);
    }
    out.push(verdict(
      "each stock = added − approved quantities",
      `${Object.keys(s.added).length} products`,
      v,
    ));
  }

  // 7. Nothing held for rejected or cancelled orders; sold ones reserved and allocated until they
  // leave, consumed and dispatched (or delivered) after.
  {
    const res = new Map(s.reservations.map((r) => [r.orderId, r.status]));
    const shp = new Map(s.shipments.map((x) => [x.orderId, x.status]));
    const v: string[] = [];
    for (const o of [...rejected, ...cancelled]) {
      const what = STATUS_NAMES[o.status]?.toLowerCase();
      const r = res.get(o.id);
      if (r === ReservationStatus.RESERVED || r === ReservationStatus.CONSUMED) {
        v.push(
          `${what} order ${o.id} still has a ${r === 1 ? "RESERVED" : "CONSUMED"} reservation`,
        );
      }
      const sh = shp.get(o.id);
      if (sh === ShipmentStatus.ALLOCATED || sh === ShipmentStatus.DISPATCHED) {
        v.push(
          `${what} order ${o.id} still has an ${sh === 1 ? "ALLOCATED" : "DISPATCHED"} shipment`,
        );
      }
    }
    for (const o of approved) {
      const left = o.status !== OrderStatus.APPROVED;
      const wantRes = left ? ReservationStatus.CONSUMED : ReservationStatus.RESERVED;
      if (res.get(o.id) !== wantRes) {
        v.push(
          `${STATUS_NAMES[o.status]} order ${o.id}: reservation status ${
            res.get(o.id) ?? "missing"
          }`,
        );
      }
      const sh = shp.get(o.id);
      const okShipment = left
        ? sh === ShipmentStatus.DISPATCHED || sh === ShipmentStatus.DELIVERED
        : sh === ShipmentStatus.ALLOCATED;
      if (!okShipment) {
        v.push(`${STATUS_NAMES[o.status]} order ${o.id}: shipment status ${sh ?? "missing"}`);
      }
    }
    out.push(verdict(
      "nothing held for rejected or cancelled orders (sold: reserved and allocated, or gone)",
      `${s.reservations.length} reservations, ${s.shipments.length} shipments`,
      v,
    ));
  }

  // 8. Dead letters.
  {
    const v = s.deadLetters.filter((d) => d.ours).map((d) =>
      `${d.topic}@${d.partition}/${d.offset} (${d.sourceTopic}, key ${d.key}): ${d.error}`
    );
    const foreign = s.deadLetters.length - v.length;
    out.push(verdict(
      "dead-letter topics: nothing of this run",
      `${s.deadLetters.length} new dead letters` +
        (foreign ? ` (${foreign} about other records, e.g. a concurrent test)` : ""),
      v,
    ));
  }
  return out;
}
