import assert from "node:assert/strict";
import { bucketize, percentile, ratePerSecond, rng, round, summarize } from "./stats.ts";

Deno.test("percentile: nearest rank on a sorted sample", () => {
  const xs = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
  assert.equal(percentile(xs, 50), 50);
  assert.equal(percentile(xs, 95), 95);
  assert.equal(percentile(xs, 99), 99);
  assert.equal(percentile(xs, 100), 100);
  assert.equal(percentile([7], 99), 7);
  assert.equal(percentile([1, 2, 3, 4], 50), 2);
  assert.equal(percentile([1, 2, 3, 4], 51), 3);
  assert.ok(Number.isNaN(percentile([], 50)));
});

Deno.test("summarize: unsorted input, non-finite values ignored, empty gives NaN", () => {
  const s = summarize([5, 1, 4, 2, 3, NaN, Infinity]);
  assert.deepEqual(
    { n: s.n, min: s.min, max: s.max, p50: s.p50, mean: s.mean },
    { n: 5, min: 1, max: 5, p50: 3, mean: 3 },
  );
  const e = summarize([]);
  assert.equal(e.n, 0);
  assert.ok(Number.isNaN(e.p99));
});

Deno.test("bucketize: per-second counts and percentiles, holes kept, early samples dropped", () => {
  const b = bucketize([
    { t: 999, v: 1 }, // before the origin
    { t: 1000, v: 10 },
    { t: 1500, v: 30 },
    { t: 3200, v: 5 },
  ], 1000);
  assert.deepEqual(b.map((x) => [x.t, x.count]), [[0, 2], [1, 0], [2, 1]]);
  assert.equal(b[0]!.p50, 10);
  assert.equal(b[0]!.p99, 30);
  assert.ok(Number.isNaN(b[1]!.p50));
});

Deno.test("ratePerSecond and round", () => {
  assert.equal(ratePerSecond([0, 100, 999, 1000, 2500], 0, 2000), 2);
  assert.equal(ratePerSecond([1, 2], 5, 5), 0);
  assert.equal(round(1.26, 1), 1.3);
  assert.ok(Number.isNaN(round(NaN)));
});

Deno.test("rng: deterministic and in [0, 1)", () => {
  const a = rng(1);
  const b = rng(1);
  const xs = Array.from({ length: 1000 }, () => a());
  assert.deepEqual(xs.slice(0, 5), Array.from({ length: 5 }, () => b()));
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.05);
});
