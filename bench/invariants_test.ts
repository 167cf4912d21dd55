import assert from "node:assert/strict";
import {
  type ChaosSnapshot,
  checkInvariants,
  deadlineOf,
  type SnapOrder,
  type Verdict,
} from "./invariants.ts";

const C1 = "c1";
const C2 = "c2";
const P1 = "p1";
const P2 = "p2";

/**
 * A consistent run: o1 approved (not dispatched yet), o2 rejected for stock, o3 rejected after a
 * timeout raced its payment, o4 cancelled and refunded, o5 shipped, o6 delivered.
 */
function healthy(): ChaosSnapshot {
  const orders: SnapOrder[] = [
    { id: "o1", customerId: C1, status: 4, totalCents: 300n, createdAt: 1_000, items: { [P1]: 2 } },
    { id: "o2", customerId: C1, status: 3, totalCents: 100n, createdAt: 2_000, items: { [P2]: 1 } },
    { id: "o3", customerId: C2, status: 3, totalCents: 150n, createdAt: 3_000, items: { [P1]: 1 } },
    {
      id: "o4",
      customerId: C2,
      status: 8,
      totalCents: 200n,
      createdAt: 4_000,
      items: { [P1]: 3 },
      refundedCents: 200n,
    },
    { id: "o5", customerId: C2, status: 6, totalCents: 50n, createdAt: 5_000, items: { [P1]: 1 } },
    { id: "o6", customerId: C2, status: 5, totalCents: 50n, createdAt: 6_000, items: { [P1]: 1 } },
  ];
  return {
    orders,
    acknowledged: orders.map((o) => ({ id: o.id, at: o.createdAt + 5 })),
    terminals: [
      { orderId: "o1", status: "APPROVED", eventId: "e1", committedAt: 1_200 },
      { orderId: "o1", status: "APPROVED", eventId: "e1", committedAt: 1_200 }, // redelivery
      { orderId: "o2", status: "REJECTED", eventId: "e2", committedAt: 2_300 },
      { orderId: "o3", status: "REJECTED", eventId: "e3", committedAt: 40_000 },
      { orderId: "o4", status: "APPROVED", eventId: "e4", committedAt: 4_200 },
      { orderId: "o4", status: "CANCELLED", eventId: "e5", committedAt: 4_900 },
      { orderId: "o5", status: "APPROVED", eventId: "e6", committedAt: 5_200 },
      { orderId: "o6", status: "APPROVED", eventId: "e7", committedAt: 6_200 },
    ],
    transactions: [
      { orderId: "o1", amountCents: 300n, reversed: false },
      { orderId: "o3", amountCents: 150n, reversed: true }, // refunded
      { orderId: "o4", amountCents: 200n, reversed: true }, // cancelled and refunded
      { orderId: "o5", amountCents: 50n, reversed: false },
      { orderId: "o6", amountCents: 50n, reversed: false },
    ],
    balances: { [C1]: 700n, [C2]: 400n },
    credits: { [C1]: 1_000n, [C2]: 500n },
    stock: { [P1]: 6, [P2]: 0 },
    added: { [P1]: 10, [P2]: 0 },
    reservations: [
      { orderId: "o1", status: 1 },
      { orderId: "o2", status: 4 },
      { orderId: "o3", status: 3 },
      { orderId: "o4", status: 3 },
      { orderId: "o5", status: 2 },
      { orderId: "o6", status: 2 },
    ],
    shipments: [
      { orderId: "o1", status: 1 },
      { orderId: "o3", status: 2 },
      { orderId: "o4", status: 2 },
      { orderId: "o5", status: 3 },
      { orderId: "o6", status: 6 },
    ],
    deadLetters: [{
      topic: "order-service.dlq",
      partition: 0,
      offset: "3",
      key: "someone-else",
      error: "cannot decode",
      sourceTopic: "order.state.created",
      consumer: "order-service",
      ours: false,
    }],
    recoveries: [30_000],
  };
}

function failing(vs: Verdict[]): Record<string, string[]> {
  return Object.fromEntries(vs.filter((v) => !v.ok).map((v) => [v.name, v.violations]));
}

Deno.test("invariants: a consistent run passes every check", () => {
  const vs = checkInvariants(healthy());
  assert.deepEqual(failing(vs), {});
  assert.equal(vs.length, 9);
  assert.match(vs.find((v) => v.name.startsWith("no order approved"))!.detail, /1 redeliveries/);
  assert.match(vs.find((v) => v.name.startsWith("dead-letter"))!.detail, /1 about other records/);
});

Deno.test("invariants: deadline is the grace after the first recovery at or after creation", () => {
  assert.equal(deadlineOf(1_000, [30_000, 90_000], 60_000), 90_000);
  assert.equal(deadlineOf(31_000, [30_000, 90_000], 60_000), 150_000);
  assert.equal(deadlineOf(100_000, [30_000, 90_000], 60_000), 160_000);
  assert.equal(deadlineOf(5, [], 60_000), 60_005);
});

Deno.test("invariants: a lost, stuck or late order is reported", () => {
  const s = healthy();
  s.acknowledged.push({ id: "ghost", at: 1 });
  s.orders.push({ id: "o9", customerId: C2, status: 2, totalCents: 1n, createdAt: 5, items: {} });
  s.orders.push({ id: "o8", customerId: C2, status: 7, totalCents: 1n, createdAt: 5, items: {} });
  s.terminals[3]!.committedAt = 95_000; // o3: 65 s after the recovery at 30 s
  const f = failing(checkInvariants(s));
  assert.deepEqual(f["every acknowledged order was persisted"], [
    "order ghost was acknowledged but is not in the order database",
  ]);
  const late = f["every accepted order terminal within 60 s of recovery"]!;
  assert.ok(late.some((l) => l.startsWith("order o9 is still PENDING")));
  assert.ok(late.some((l) => l.startsWith("order o8 is still CANCELLING")));
  assert.ok(late.some((l) => l.startsWith("order o3 ended 65 s after")));
});

Deno.test("invariants: a double approval or a status that disagrees with its events fails", () => {
  const s = healthy();
  s.terminals.push({ orderId: "o1", status: "APPROVED", eventId: "e9", committedAt: 1_300 });
  s.terminals.push({ orderId: "o2", status: "APPROVED", eventId: "e8", committedAt: 2_400 });
  s.terminals.push({ orderId: "o4", status: "CANCELLED", eventId: "e10", committedAt: 4_950 });
  s.terminals.push({ orderId: "o5", status: "CANCELLED", eventId: "e11", committedAt: 5_950 });
  const f = failing(checkInvariants(s))[
    "no order approved or cancelled twice; status matches its events"
  ]!;
  assert.ok(f.includes("order o4 cancelled 2 times (distinct events)"));
  assert.ok(f.includes("order o5 is SHIPPED but was announced cancelled"));
  assert.ok(f.includes("order o1 approved 2 times (distinct events)"));
  assert.ok(f.includes("order o2 has both an approved and a rejected event"));
  assert.ok(f.includes("order o2 is REJECTED but was announced approved"));
});

Deno.test("invariants: money: a missing or extra debit, and a wrong balance", () => {
  const s = healthy();
  s.transactions[0]!.reversed = true; // o1 approved but refunded
  s.transactions.push({ orderId: "o2", amountCents: 100n, reversed: false }); // rejected, charged
  s.balances[C1] = 600n;
  const f = failing(checkInvariants(s));
  assert.deepEqual(
    f["exactly one debit per approved order, none (net) per rejected or cancelled order"],
    ["approved order o1 has 0 live debits", "rejected order o2 has 1 live debits"],
  );
  assert.deepEqual(f["each balance = credits − approved totals"], [
    "customer c1: balance 600, expected 700",
  ]);
});

Deno.test("invariants: stock and held reservations or shipments", () => {
  const s = healthy();
  s.stock[P1] = 9; // one unit of an approved order came back
  s.reservations[2]!.status = 1; // rejected o3 still RESERVED
  s.shipments.push({ orderId: "o2", status: 1 }); // rejected o2 still ALLOCATED
  s.reservations[3]!.status = 2; // cancelled o4's stock left after all
  s.shipments[4]!.status = 1; // delivered o6's shipment still ALLOCATED
  const f = failing(checkInvariants(s));
  assert.deepEqual(f["each stock = added − approved quantities"], [
    "product p1: stock 9, expected 6",
  ]);
  assert.deepEqual(
    f["nothing held for rejected or cancelled orders (sold: reserved and allocated, or gone)"],
    [
      "rejected order o2 still has an ALLOCATED shipment",
      "rejected order o3 still has a RESERVED reservation",
      "cancelled order o4 still has a CONSUMED reservation",
      "COMPLETED order o6: shipment status 1",
    ],
  );
});

Deno.test("invariants: refunds: one per cancelled order, to the cent, none for a sold one", () => {
  const s = healthy();
  s.transactions.push({ orderId: "o4", amountCents: 200n, reversed: true }); // refunded twice
  s.transactions[3]!.reversed = true; // shipped o5 refunded
  s.balances[C2] = 650n;
  const f = failing(checkInvariants(s));
  assert.deepEqual(f["one refund per cancelled order, to the cent; none for a sold one"], [
    "cancelled order o4 has 2 refunds",
    "sold order o5 (SHIPPED) was refunded",
  ]);
  assert.deepEqual(
    f["exactly one debit per approved order, none (net) per rejected or cancelled order"],
    ["approved order o5 has 0 live debits"],
  );
});

Deno.test("invariants: a dead letter about the run's records is a violation", () => {
  const s = healthy();
  s.deadLetters.push({ ...s.deadLetters[0]!, key: "o1", ours: true, error: "boom" });
  const f = failing(checkInvariants(s))["dead-letter topics: nothing of this run"]!;
  assert.deepEqual(f, ["order-service.dlq@0/3 (order.state.created, key o1): boom"]);
});

Deno.test("invariants: long violation lists are cut", () => {
  const s = healthy();
  for (let i = 0; i < 40; i++) s.acknowledged.push({ id: `x${i}`, at: 0 });
  const v = checkInvariants(s).find((x) => x.name === "every acknowledged order was persisted")!;
  assert.equal(v.violations.length, 26);
  assert.equal(v.violations.at(-1), "… and 15 more");
});
