/**
 * `deno run -A bench/side_by_side.ts [--stack test] [--rates 60,120,150,180] [--seconds 20]
 * [--closed 64,128] [--alone 40] [--cpu-rate 60]`: the issue-12 method against a running stack.
 * @module
 */
import { parseArgs } from "node:util";
import {
  alone,
  closedLoop,
  compareFixture,
  ComparePlacer,
  line,
  openLoop,
  type PhaseFigures,
  TerminalPoller,
} from "./compare.ts";
import { cpuSeconds } from "./rss.ts";
import { rng } from "./stats.ts";
import { resolveTarget } from "./target.ts";
import { childrenOf } from "../scripts/infra/process.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    stack: { type: "string", default: "test" },
    rates: { type: "string", default: "60,120,150,180" },
    seconds: { type: "string", default: "20" },
    closed: { type: "string", default: "64,128" },
    alone: { type: "string", default: "40" },
    "cpu-rate": { type: "string", default: "60" },
    "cpu-seconds": { type: "string", default: "20" },
  },
});
const log = (l: string) => console.error(`[side-by-side] ${l}`);
const target = await resolveTarget({ stack: values.stack as "dev" | "test", log });
const fixture = await compareFixture(target.api, {
  log,
  cacheFile: `${target.infra.stateDir}/bench-fixture.json`,
});
const poller = new TerminalPoller(target.serviceDbUrl("order"));
poller.start();
const placer = new ComparePlacer(target.api, fixture, poller, rng(42));
const results: PhaseFigures[] = [];

/** Per-process CPU, Postgres backends split by their title. */
async function cpuByProcess(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const g of await target.processes()) {
    for (const pid of g.pids) {
      let name = g.name;
      if (g.name === "postgres") {
        try {
          const cmd = Deno.readTextFileSync(`/proc/${pid}/cmdline`).replaceAll("\0", " ").trim();
          name = "pg: " + cmd.replace(/^postgres: /, "").replace(/\d+\.\d+\.\d+\.\d+\(\d+\)/, "")
            .replace(/\s+(idle|SELECT|INSERT|UPDATE|COMMIT|BEGIN).*$/, "").slice(0, 48);
        } catch { /* gone */ }
      }
      out.set(name, (out.get(name) ?? 0) + cpuSeconds(pid));
    }
  }
  return out;
}
void childrenOf;

try {
  log("warm-up: 30/s for 10 s");
  await openLoop(placer, 30, 10);
  const n = Number(values.alone);
  if (n > 0) {
    const f = await alone(placer, n);
    results.push(f);
    log(line(f));
  }
  const cpuRate = Number(values["cpu-rate"]);
  if (cpuRate > 0) {
    const secs = Number(values["cpu-seconds"]);
    const before = await cpuByProcess();
    const f = await openLoop(placer, cpuRate, secs);
    const after = await cpuByProcess();
    const done = f.completedPerSec * secs;
    const rows = [...after].map(([k, v]) => [k, v - (before.get(k) ?? 0)] as const)
      .filter(([, v]) => v > 0.05).sort((a, b) => b[1] - a[1]);
    let total = 0;
    for (const [k, v] of rows) {
      total += v;
      console.log(
        `  ${k.padEnd(50)} ${(v / secs).toFixed(3)} cores  ${
          (v * 1000 / done).toFixed(2)
        } ms/order`,
      );
    }
    console.log(
      `  TOTAL ${(total / secs).toFixed(3)} cores, ${(total * 1000 / done).toFixed(2)} ms/order`,
    );
    log(line(f));
  }
  for (const r of values.rates.split(",").filter(Boolean).map(Number)) {
    const f = await openLoop(placer, r, Number(values.seconds));
    results.push(f);
    log(line(f));
    await new Promise((res) => setTimeout(res, 3000));
  }
  for (const c of values.closed.split(",").filter(Boolean).map(Number)) {
    const f = await closedLoop(placer, c, Number(values.seconds));
    results.push(f);
    log(line(f));
    await new Promise((res) => setTimeout(res, 3000));
  }
  console.log(JSON.stringify(results));
} finally {
  await poller.stop();
  await target.release();
}
Deno.exit(0);
