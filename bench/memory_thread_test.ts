import assert from "node:assert/strict";
import { infraConfig } from "@stocklet/scripts/infra";
import { MemoryThread } from "./memory_thread.ts";
import { BENCH_GROUP, readSample, RssSampler, type SampleRow } from "./rss.ts";

Deno.test("readSample sums each group's processes and adds the bench's own row", () => {
  const sizes: Record<number, { rss: number; pss: number }> = {
    1: { rss: 300, pss: 100 },
    2: { rss: 500, pss: 200 },
    [Deno.pid]: { rss: 70, pss: 7 },
  };
  const rows = readSample(
    [
      { name: "postgres", kind: "infra", pids: [1, 2] },
      { name: "order", kind: "app", pids: [3] }, // gone: counts zero
    ],
    (pid) => sizes[pid] ?? { rss: 0, pss: 0 },
  );
  assert.deepEqual(rows, [
    { name: "postgres", kind: "infra", rss: 800, pss: 300, n: 2 },
    { name: "order", kind: "app", rss: 0, pss: 0, n: 1 },
    { name: BENCH_GROUP, kind: "bench", rss: 70, pss: 7, n: 1 },
  ]);
});

Deno.test("samples recorded from elsewhere fold into the phase's peak and reach listeners until unsubscribed", () => {
  const sampler = new RssSampler();
  const heard: number[] = [];
  const unsubscribe = sampler.onSample((rows) => heard.push(rows[0]!.pss));
  const row = (pss: number): SampleRow[] => [{ name: "order", kind: "app", rss: pss, pss, n: 1 }];
  sampler.phase("open 60/s");
  sampler.record(row(100 * 1024));
  sampler.record(row(250 * 1024));
  unsubscribe();
  sampler.phase("reads");
  sampler.record(row(50 * 1024));
  assert.deepEqual(heard, [100 * 1024, 250 * 1024]);
  const report = sampler.report();
  assert.equal(report.samples, 3);
  assert.equal(report.totalPssMiB, 250);
  assert.deepEqual(report.phases?.map((p) => [p.phase, p.pssMiB]), [["open 60/s", 250], [
    "reads",
    50,
  ]]);
});

Deno.test("the memory thread reads /proc on a worker and hands its samples to the sampler", async () => {
  // A state folder with no pid files: no infrastructure found, the bench's own row still read.
  const stateDir = await Deno.makeTempDir();
  const sampler = new RssSampler();
  const thread = MemoryThread.start(sampler, "test", { ...infraConfig("test"), stateDir }, 50);
  try {
    const deadline = Date.now() + 20_000;
    while (sampler.report().samples < 3 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await thread.stop();
    await Deno.remove(stateDir, { recursive: true });
  }
  const report = sampler.report();
  assert.ok(report.samples >= 3, `${report.samples} samples in 20 s`);
  assert.equal(thread.failures, 0, thread.lastError ?? "");
  const bench = report.groups.find((g) => g.name === BENCH_GROUP);
  // This process's real PSS, read from /proc/<pid>/smaps_rollup by the worker thread.
  assert.ok(bench && bench.pssMiB > 5 && bench.rssMiB >= bench.pssMiB, JSON.stringify(bench));
  const after = report.samples;
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(sampler.report().samples, after, "no sample after stop");
});
