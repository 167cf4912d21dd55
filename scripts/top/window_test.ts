import assert from "node:assert/strict";
import type { Series } from "../trace/metric_store.ts";
import {
  histogramIncrease,
  increase,
  latestSum,
  quantile,
  rate,
  spanSeconds,
  where,
} from "./window.ts";

function counter(points: Array<[number, number]>, attrs = {}, start = 0): Series {
  return {
    service: "order",
    scope: "stocklet",
    name: "c",
    unit: "{x}",
    kind: "sum",
    monotonic: true,
    attributes: attrs,
    points: points.map(([t, v]) => ({ t, v, s: start })),
  };
}

Deno.test("increase() and rate() difference a counter's cumulative points over the window", () => {
  const s = counter([[0, 5], [2000, 9], [4000, 15], [6000, 21]]);
  // Window 4 s back from 6 s: from the point at 2 s on.
  assert.equal(increase([s], 4000, 6000), 12);
  assert.equal(spanSeconds([s], 4000, 6000), 4);
  assert.equal(rate([s], 4000, 6000), 3);
});

Deno.test("increase() counts from zero again after a restart (the value dropped)", () => {
  const s = counter([[0, 100], [2000, 110], [4000, 3], [6000, 8]]);
  assert.equal(increase([s], 6000, 6000), 10 + 3 + 5);
});

Deno.test("increase() counts a series born inside the window from its start", () => {
  const s = counter([[3000, 4], [5000, 6]], {}, 2500);
  assert.equal(increase([s], 10_000, 6000), 6);
  assert.equal(spanSeconds([s], 10_000, 6000), 2.5);
});

Deno.test("quantile() interpolates within the bucket, as histogram_quantile does", () => {
  const h = { count: 4, sum: 0.6, bounds: [0.1, 0.2], buckets: [0, 4, 0] };
  assert.ok(Math.abs(quantile(0.5, h)! - 0.15) < 1e-12);
  assert.equal(quantile(1, h), 0.2);
  assert.equal(quantile(0.5, { count: 0, sum: 0, bounds: [1], buckets: [0, 0] }), undefined);
  // Everything above the last bound: its lower bound.
  assert.equal(quantile(0.99, { count: 2, sum: 30, bounds: [1, 10], buckets: [0, 0, 2] }), 10);
});

Deno.test("histogramIncrease() merges series' bucket growth", () => {
  const mk = (a: number[], b: number[]): Series => ({
    ...counter([]),
    kind: "histogram",
    points: [
      {
        t: 0,
        s: -10_000,
        h: { count: a.reduce((x, y) => x + y), sum: 1, bounds: [0.1], buckets: a },
      },
      {
        t: 2000,
        s: -10_000,
        h: { count: b.reduce((x, y) => x + y), sum: 3, bounds: [0.1], buckets: b },
      },
    ],
  });
  const h = histogramIncrease([mk([1, 0], [3, 1]), mk([0, 0], [1, 1])], 5000, 2000);
  assert.deepEqual(h.buckets, [3, 2]);
  assert.equal(h.count, 5);
  assert.equal(h.sum, 4);
});

Deno.test("where() and latestSum() select and add up gauges", () => {
  const a = counter([[0, 3]], { topic: "a" });
  const b = counter([[0, 4]], { topic: "b" });
  assert.equal(latestSum(where([a, b], { topic: "b" })), 4);
  assert.equal(latestSum([a, b]), 7);
});

Deno.test("increase() counts the first value of a series that appeared late, once", () => {
  // A counter recorded with new attributes long after its process started (s = 0).
  const late = { ...counter([[90_000, 1], [92_000, 3]], {}, 0), late: true };
  assert.equal(increase([late], 60_000, 100_000), 3, "1 at its first export, then 2");
  // Its first point before the window: no more growth within it.
  assert.equal(increase([late], 9_000, 100_000), 2);
  assert.equal(increase([{ ...late, late: false }], 60_000, 100_000), 2, "an old series");
});
