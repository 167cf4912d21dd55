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

/** A consistent run: o1 approved, o2 rejected for stock, o3 rejected after a timeout raced its payment. */
function healthy(): ChaosSnapshot {
  const orders: SnapOrder[] = [
    { id: "o1", customerId: C1, status: 4, totalCents: 300n, createdAt: 1_000, items: { [P1]: 2 } },
    { id: "o2", customerId: C1, status: 3, totalCents: 100n, createdAt: 2_000, items: { [P2]: 1 } },
    { id: "o3", customerId: C2, status: 3, totalCents: 150n, createdAt: 3_000, items: { [P1]: 1 } },
  ];
  return {
    orders,
    acknowledged: orders.map((o) => ({ id: o.id, at: o.createdAt + 5 })),
    terminals: [
      { orderId: "o1", status: "APPROVED", eventId: "e1", committedAt: 1_200 },
      { orderId: "o1", status: "APPROVED", eventId: "e1", committedAt: 1_200 }, // redelivery
      { orderId: "o2", status: "REJECTED", eventId: "e2", committedAt: 2_300 },
      { orderId: "o3", status: "REJECTED", eventId: "e3", committedAt: 40_000 },
    ],
    transactions: [
      { orderId: "o1", amountCents: 300n, reversed: false },
      { orderId: "o3", amountCents: 150n, reversed: true }, // refunded
    ],
    balances: { [C1]: 700n, [C2]: 500n },
    credits: { [C1]: 1_000n, [C2]: 500n },
    stock: { [P1]: 8, [P2]: 0 },
    added: { [P1]: 10, [P2]: 0 },
    reservations: [
      { orderId: "o1", status: 2 },
      { orderId: "o2", status: 4 },
      { orderId: "o3", status: 3 },
    ],
    shipments: [{ orderId: "o1", status: 1 }, { orderId: "o3", status: 2 }],
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
  assert.equal(vs.length, 8);
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
  s.orders.push({ id: "o4", customerId: C2, status: 2, totalCents: 1n, createdAt: 5, items: {} });
  s.terminals[3]!.committedAt = 95_000; // o3: 65 s after the recovery at 30 s
  const f = failing(checkInvariants(s));
  assert.deepEqual(f["every acknowledged order was persisted"], [
    "order ghost was acknowledged but is not in the order database",
  ]);
  const late = f["every accepted order terminal within 60 s of recovery"]!;
  assert.ok(late.some((l) => l.startsWith("order o4 is still PENDING")));
  assert.ok(late.some((l) => l.startsWith("order o3 ended 65 s after")));
});

Deno.test("invariants: a double approval or a status that disagrees with its events fails", () => {
  const s = healthy();
  s.terminals.push({ orderId: "o1", status: "APPROVED", eventId: "e9", committedAt: 1_300 });
  s.terminals.push({ orderId: "o2", status: "APPROVED", eventId: "e8", committedAt: 2_400 });
  const f = failing(checkInvariants(s))["no order approved twice; status matches its events"]!;
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
  assert.deepEqual(f["exactly one debit per approved order, none (net) per rejected order"], [
    "approved order o1 has 0 live debits",
    "rejected order o2 has 1 live debits",
  ]);
  assert.deepEqual(f["each balance = credits − approved totals"], [
    "customer c1: balance 600, expected 700",
  ]);
});

Deno.test("invariants: stock and held reservations or shipments", () => {
  const s = healthy();
  s.stock[P1] = 9; // one unit of an approved order came back
  s.reservations[2]!.status = 1; // rejected o3 still RESERVED
  s.shipments.push({ orderId: "o2", status: 1 }); // rejected o2 still ALLOCATED
  const f = failing(checkInvariants(s));
  assert.deepEqual(f["each stock = added − approved quantities"], [
    "product p1: stock 9, expected 8",
  ]);
  assert.deepEqual(
    f["no reservation or shipment held for a rejected order (approved: consumed, allocated)"],
    [
      "rejected order o2 still has an ALLOCATED shipment",
      "rejected order o3 still has a RESERVED reservation",
    ],
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
