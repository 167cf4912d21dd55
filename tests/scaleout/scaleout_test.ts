/**
 * The scale-out test (issue 17): the chaos suite (bench/chaos.ts) as a child process on a stack of
 * its own — its own PostgreSQL, Kafka and Connect, on this run's port shift + 2600, so it never
 * touches the suite's stack — with two replicas of every consuming service on 3-partition topics,
 * under steady load (the bench's mix with cancellations). One replica of each consuming service is
 * SIGKILLed in turn and started again; then every order must be terminal, the chaos invariants
 * hold (money and stock conserved, one debit per approved order, nothing held for rejected ones),
 * no event was dead-lettered, and replaying every topic changes no table. The child's exit code
 * and its JSON report are both checked; the report's orders, kills and rebalance times are
 * printed. The child's stack starts from nothing (`--down --wipe`) and is stopped at the end (the
 * run stops what it started; `--down` whatever a failure left).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT, STATE_DIR } from "@stocklet/scripts/paths";
import type { ChaosReport } from "../../bench/chaos.ts";
import { CONSUMING_SERVICES } from "../../bench/target.ts";

/** How far the child's stack is shifted from this run's. */
const SCALEOUT_SHIFT = 2600;
const REPLICAS = 2;
const PARTITIONS = 3;
/** Runs the chaos suite with `args` in `env`, its output appended to `log`. */
async function runLogged(args: string[], env: Record<string, string>, log: string) {
  const file = await Deno.open(log, { write: true, create: true, append: true });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(ROOT, "bench", "chaos.ts"), ...args],
    cwd: ROOT,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Both streams into one file as they come (tail it to follow a run), one write at a time.
  let queue = Promise.resolve();
  const pump = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s) {
      queue = queue.then(async () => {
        for (let at = 0; at < chunk.length;) at += await file.write(chunk.subarray(at));
      });
    }
  };
  await Promise.all([pump(child.stdout), pump(child.stderr)]);
  const status = await child.status;
  await queue;
  file.close();
  return status;
}

Deno.test({
  name: "scale-out: 2 replicas per consuming service on 3 partitions, each killed once under load",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const shift = Number(Deno.env.get("STOCKLET_TEST_PORT_SHIFT") || 0) + SCALEOUT_SHIFT;
    const dir = join(STATE_DIR, "test-results", "scaleout");
    await Deno.mkdir(dir, { recursive: true });
    const report = join(dir, "scaleout.json");
    const log = join(dir, "chaos.log");
    // A report of an earlier run must not pass for this one.
    await Deno.remove(report).catch(() => {});
    await Deno.remove(join(dir, "summary.txt")).catch(() => {});
    await Deno.remove(log).catch(() => {});
    const env = {
      STOCKLET_TEST_PORT_SHIFT: String(shift),
      // The storefront is not part of the saga: its projection would only take CPU.
      STOCKLET_WEB: "off",
    };
    const t0 = performance.now();
    // From nothing: no database or topic of an earlier run (its history would be replayed too).
    await runLogged(["--down", "--wipe"], env, log);
    let status: Deno.CommandStatus;
    try {
      status = await runLogged(
        [
          "--replicas",
          String(REPLICAS),
          "--partitions",
          String(PARTITIONS),
          "--rate",
          "5",
          // Few customers: registering one runs scrypt (about a second here); the load needs few.
          "--customers",
          "4",
          // Calm before each kill; each kill then takes about 12 s (the 10 s session timeout).
          "--steady",
          "5",
          "--grace-ms",
          "60000",
          "--out",
          dir,
          "--name",
          "scaleout",
        ],
        env,
        log,
      );
    } finally {
      // Whatever the run left up (it stops its own stack when it ends normally).
      await runLogged(["--down"], env, log);
    }
    const secs = (performance.now() - t0) / 1000;
    const text = await Deno.readTextFile(log);
    const tail = text.split("\n").filter((l) => !/TimeoutNegativeWarning|Timeout duration/.test(l))
      .slice(-60).join("\n");
    const r: ChaosReport = JSON.parse(
      await Deno.readTextFile(report).catch(() => {
        throw new Error(`the chaos run wrote no report (exit ${status.code}); its log:\n${tail}`);
      }),
    );
    const s = (from: number, to?: number) =>
      to === undefined ? "-" : `${((to - from) / 1000).toFixed(1)} s`;
    const summary = [
      `scale-out: ${secs.toFixed(0)} s, ${r.replicas} replicas × ${r.partitions} partitions; ` +
      `orders: ${r.orders.placeRequests} placed, ${r.orders.acknowledged} acknowledged, ` +
      `${r.orders.inDatabase} in the database (${
        Object.entries(r.orders.byStatus).map(([k, n]) => `${n} ${k}`).join(", ")
      }), ${r.orders.cancellations} cancellations`,
      ...r.kills.map((k) =>
        `  killed ${k.victim}: ready again ${s(k.killedAt, k.restartedAt)}, ` +
        `${k.group} rebalanced ${s(k.killedAt, k.rebalancedAt)}`
      ),
      `  replay: ${r.replay?.records} records, ${r.replay?.tables} tables, ` +
      `${r.replay?.ok ? "unchanged" : "CHANGED"}`,
    ].join("\n");
    // The dot reporter hides a passing test's output: the figures are kept beside the report.
    console.log(summary);
    await Deno.writeTextFile(join(dir, "summary.txt"), summary + "\n");
    const failed = r.verdicts.filter((v) => !v.ok);
    assert.deepEqual(
      failed.map((v) => `${v.name}: ${v.violations.slice(0, 5).join("; ")}`),
      [],
      `invariants broken; the run's log:\n${tail}`,
    );
    assert.equal(status.code, 0, `chaos exited ${status.code}; its log:\n${tail}`);
    assert.ok(r.ok, "the report says the run failed");
    assert.deepEqual([r.replicas, r.partitions], [REPLICAS, PARTITIONS]);
    // One replica of each consuming service was killed and its group rebalanced.
    assert.deepEqual(
      r.kills.map((k) => k.victim.split("@")[0]).sort(),
      [...CONSUMING_SERVICES].sort(),
    );
    for (const k of r.kills) {
      assert.ok(k.rebalancedAt, `${k.victim}: its group never rebalanced`);
      assert.deepEqual(k.notes, [], `${k.victim}: ${k.notes.join("; ")}`);
    }
    assert.ok(r.orders.acknowledged >= 50, `only ${r.orders.acknowledged} orders went through`);
    assert.ok(r.orders.inDatabase >= r.orders.acknowledged);
    assert.equal(r.orders.byStatus["in flight"] ?? 0, 0, "every order terminal");
    assert.equal(r.deadLetters, 0, "no dead letters");
    assert.ok(r.replay?.ok, "the replay changed no table");
    assert.ok((r.replay?.records ?? 0) > 0, "the replay re-delivered the history");
  },
});
