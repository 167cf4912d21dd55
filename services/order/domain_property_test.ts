/**
 * Properties of the order's rules (fast-check): the status machine only moves forward whatever
 * events arrive in whatever order, and a price quote is accepted exactly when it adds up.
 */
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import fc from "fast-check";
import { events } from "@stocklet/shared/proto";
import { checkQuote, inFlight, Status, transitions } from "./domain.ts";

const canMove = (from: Status, to: Status): boolean => transitions.canMove(from, to);

const ALL = [
  Status.UNSPECIFIED,
  Status.PROCESSING,
  Status.PENDING,
  Status.APPROVED,
  Status.REJECTED,
  Status.COMPLETED,
];
/** How far along the saga a status is: a legal move never lowers it. */
const RANK: Record<number, number> = {
  [Status.UNSPECIFIED]: -1,
  [Status.PROCESSING]: 0,
  [Status.PENDING]: 1,
  [Status.APPROVED]: 2,
  [Status.REJECTED]: 2,
  [Status.COMPLETED]: 3,
};

Deno.test("the status machine, under any sequence of events, only ever moves forward", () => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...ALL), { maxLength: 30 }), (attempts) => {
      let status: Status = Status.PROCESSING;
      const visited: Status[] = [status];
      for (const to of attempts) {
        if (!canMove(status, to)) continue;
        assert.ok(RANK[to]! > RANK[status]!, `${Status[status]} → ${Status[to]} goes back`);
        status = to;
        visited.push(status);
      }
      // Terminal statuses absorb every later event.
      if (status === Status.REJECTED || status === Status.COMPLETED) {
        for (const to of ALL) assert.equal(canMove(status, to), false);
      }
      // Approved only ever after pending; rejected only while in flight.
      const approvedAt = visited.indexOf(Status.APPROVED);
      if (approvedAt >= 0) assert.equal(visited[approvedAt - 1], Status.PENDING);
      const rejectedAt = visited.indexOf(Status.REJECTED);
      if (rejectedAt >= 0) assert.ok(inFlight(visited[rejectedAt - 1]!));
      // An order is never both approved and rejected, and in flight iff not terminal.
      assert.ok(approvedAt < 0 || rejectedAt < 0);
      assert.equal(inFlight(status), RANK[status]! < 2);
    }),
    { seed: 13, numRuns: 1000 },
  );
});

const items = fc.dictionary(
  fc.uuid(),
  fc.record({
    qty: fc.integer({ min: 1, max: 10_000 }),
    price: fc.bigInt({ min: 0n, max: 100_000_000_000n }),
  }),
  { minKeys: 1, maxKeys: 100 },
);

function quoteOf(
  lines: Record<string, { qty: number; price: bigint }>,
  total?: bigint,
): events.ProductPriceQuoteEvent {
  const entries = Object.entries(lines);
  return create(events.ProductPriceQuoteEventSchema, {
    productPricesCents: Object.fromEntries(entries.map(([id, l]) => [id, l.price])),
    totalPriceCents: total ?? entries.reduce((sum, [, l]) => sum + l.price * BigInt(l.qty), 0n),
  });
}

Deno.test("checkQuote() accepts a quote exactly when it adds up to the cent", () => {
  fc.assert(
    fc.property(items, fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }), (lines, delta) => {
      const quantities = Object.fromEntries(Object.entries(lines).map(([id, l]) => [id, l.qty]));
      const good = quoteOf(lines);
      assert.equal(checkQuote(quantities, good), undefined);
      const off = quoteOf(lines, good.totalPriceCents + delta);
      assert.equal(checkQuote(quantities, off) === undefined, delta === 0n);
    }),
    { seed: 13, numRuns: 300 },
  );
});

Deno.test("checkQuote() refuses a quote missing a price or pricing another product", () => {
  fc.assert(
    fc.property(items, fc.uuid(), (lines, stranger) => {
      fc.pre(!(stranger in lines));
      const quantities = Object.fromEntries(Object.entries(lines).map(([id, l]) => [id, l.qty]));
      const [first] = Object.keys(lines);
      const { [first!]: _dropped, ...fewer } = lines;
      assert.match(checkQuote(quantities, quoteOf(fewer))!, /no price for/);
      const extra = quoteOf({ ...lines, [stranger]: { qty: 1, price: 0n } });
      assert.match(checkQuote(quantities, extra)!, /does not have/);
    }),
    { seed: 13, numRuns: 200 },
  );
});
