/**
 * `deno task test`: the whole suite. Brings up what the tests need (reusing what already runs),
 * runs every `*_test.ts` with a JUnit report in .stocklet/test-results/junit.xml, prints
 * `N passed, N failed` from that report and stops what it started.
 *
 * `deno task test <paths…>` runs only those files or folders.
 */
import { join } from "node:path";
import { ROOT, STATE_DIR } from "./lib/paths.ts";
import { countJunit } from "./lib/junit.ts";

/** Where the JUnit report of the last run is written. */
export const JUNIT_PATH: string = join(STATE_DIR, "test-results", "junit.xml");

async function main(): Promise<number> {
  const paths = Deno.args.length ? Deno.args : ["."];
  await Deno.mkdir(join(STATE_DIR, "test-results"), { recursive: true });
  await Deno.remove(JUNIT_PATH).catch(() => {});
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["test", "-A", "--reporter=dot", `--junit-path=${JUNIT_PATH}`, ...paths],
    cwd: ROOT,
    stdin: "null",
  }).spawn();
  const { code } = await child.status;
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  let xml = "";
  try {
    xml = await Deno.readTextFile(JUNIT_PATH);
  } catch {
    console.error(
      `test: no JUnit report was written (type errors or a module that failed to load?)`,
    );
    console.log("0 passed, 1 failed");
    return 1;
  }
  const c = countJunit(xml);
  const failed = c.failed + (code !== 0 && c.failed === 0 ? 1 : 0);
  console.error(`test: ${secs} s, ${c.skipped} skipped; report in ${JUNIT_PATH}`);
  console.log(`${c.passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main());
