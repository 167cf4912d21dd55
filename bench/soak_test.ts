import assert from "node:assert/strict";
import { SoakSeries } from "./soak.ts";

Deno.test("soak: the settling's growth is reported apart and kept out of the measured slope", () => {
  const series = new SoakSeries();
  // Ten minutes of settling, each group growing; then thirty flat minutes.
  for (let m = -10; m < 0; m++) series.add(m, { kafka: 170 + m + 10, order: 60 + 2 * (m + 10) });
  for (let m = 0; m <= 30; m++) series.add(m, { kafka: 180, order: 80 });
  const f = series.figures();
  assert.equal(f.slopeMiBPerHour, 0);
  assert.deepEqual(f.samples[0], [0, 260]);
  assert.equal(f.samples.length, 31);
  assert.deepEqual(f.groups, { kafka: [180, 180], order: [80, 80] });
  assert.deepEqual(f.groupSlopes, { kafka: 0, order: 0 });
  assert.ok(f.settling);
  assert.equal(f.settling.samples.length, 10);
  // 3 MiB a minute over the settling: 180 MiB/h.
  assert.equal(Math.round(f.settling.slopeMiBPerHour), 180);
});

Deno.test("soak: a group that keeps growing after the settling shows in its own slope", () => {
  const series = new SoakSeries();
  for (let m = 0; m <= 30; m++) series.add(m, { kafka: 180, order: 80 + m / 2, edge: 70 - m / 6 });
  const f = series.figures();
  assert.equal(f.settling, undefined);
  assert.equal(f.groupSlopes.order, 30);
  assert.equal(f.groupSlopes.edge, -10);
  assert.equal(f.groupSlopes.kafka, 0);
  assert.equal(Math.round(f.slopeMiBPerHour), 20);
  assert.deepEqual(f.groups.order, [80, 95]);
});

Deno.test("soak: a group that appears late is measured from its first sample", () => {
  const series = new SoakSeries();
  series.add(0, { kafka: 180 });
  series.add(1, { kafka: 180, web: 50 });
  series.add(2, { kafka: 180, web: 52 });
  const f = series.figures();
  assert.deepEqual(f.groups.web, [50, 52]);
  assert.equal(f.groupSlopes.web, 120);
});
