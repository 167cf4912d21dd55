/**
 * `deno task test`: the whole suite against real infrastructure. It brings up the test stack
 * (Postgres, Kafka, Kafka Connect with Debezium, the seven services, the web front and the edge, on
 * the test ports, reusing whatever already runs) and what tests need besides it (a docker compose
 * CLI, from apt when missing; Debian's Chromium for the browser journeys when it is missing; the
 * deployments' validation tools, scripts/lib/k8s_tools.ts), runs
 * every `*_test.ts` with a JUnit report in
 * .stocklet/test-results/junit.xml, stops what it started, and prints `N passed, N failed` counted
 * from that report.
 *
 * `deno task test <paths…>` runs only those files or folders.
 */
import { join, relative, resolve } from "node:path";
import { ensureChromium } from "./browser/chromium.ts";
import { COMPONENTS, infraConfig, infraStatus, stopComponent } from "./infra/mod.ts";
import { ensureComposeTool } from "./lib/compose_tool.ts";
import { ensureAptTool } from "./lib/apt_tool.ts";
import { countJunit } from "./lib/junit.ts";
import { ensureK8sTools } from "./lib/k8s_tools.ts";
import { ensureLuajit } from "./lib/luajit.ts";
import { ensureSchemathesis } from "./lib/schemathesis.ts";
import { ROOT, STATE_DIR } from "./lib/paths.ts";
import { appPid } from "./stack/apps.ts";
import { ensureTestStack, stackApps, stopTestStack } from "./stack/test_stack.ts";
import { collectorUp, stopCollector } from "./stack/collector.ts";

/** Where the JUnit report of the last run is written. */
export const JUNIT_PATH: string = join(STATE_DIR, "test-results", "junit.xml");

const say = (line: string) => console.error(`test: ${line}`);

/** Whether a test path includes the browser journeys (tests/browser/). */
function needsBrowser(path: string): boolean {
  const p = relative(ROOT, resolve(ROOT, path));
  return p === "" || p === "tests" || p.startsWith(join("tests", "browser"));
}

/** Whether a test path is (or holds, or lies in) a folder of the repository, e.g. `deploy`. */
function covers(path: string, folder: string): boolean {
  const p = relative(ROOT, resolve(ROOT, path));
  return p === "" || p === folder || p.startsWith(`${folder}/`) || folder.startsWith(`${p}/`);
}

async function runDenoTest(paths: string[]): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["test", "-A", "--reporter=dot", `--junit-path=${JUNIT_PATH}`, ...paths],
    cwd: ROOT,
    stdin: "null",
    env: {
      // Deno's built-in OpenTelemetry, so trace-propagation tests see real trace ids. Nothing
      // listens on this endpoint; spans the test process exports are dropped.
      OTEL_DENO: "true",
      OTEL_EXPORTER_OTLP_ENDPOINT: Deno.env.get("STOCKLET_TEST_OTLP") ?? "http://127.0.0.1:9",
      OTEL_SERVICE_NAME: "tests",
    },
  }).spawn();
  return (await child.status).code;
}

async function main(): Promise<number> {
  const paths = Deno.args.length ? Deno.args : ["."];
  await Deno.mkdir(join(STATE_DIR, "test-results"), { recursive: true });
  await Deno.remove(JUNIT_PATH).catch(() => {});
  const cfg = infraConfig("test");

  // What already runs stays running afterwards; what this run starts, it stops.
  const infraBefore = new Set(
    (await infraStatus(cfg)).filter((s) => s.pid !== undefined).map((s) => s.component),
  );
  const appsBefore = new Set((await stackApps()).filter((a) => appPid("test", a) !== undefined));
  const collectorBefore = await collectorUp("test");

  const t0 = performance.now();
  try {
    say("bringing up the test stack (infrastructure, service-init, services, edge)…");
    await ensureTestStack({ log: say });
  } catch (e) {
    // The tests that need the stack will fail and say so; the others still run and count.
    say(`the test stack did not come up: ${e instanceof Error ? e.message : e}`);
  }
  // What the tests need besides the stack, installed here so that no test installs anything.
  if (!(await ensureComposeTool(say))) {
    say("no docker compose CLI (and none could be installed): the compose tests will fail");
  }
  if (paths.some((p) => needsBrowser(p))) {
    try {
      await ensureChromium((line) => say(line));
    } catch (e) {
      // The browser journeys will fail and say so; everything else still runs.
      say(`no Chromium for the browser tests: ${e instanceof Error ? e.message : e}`);
    }
  }
  if (paths.some((p) => p === "." || p.replace(/^\.\//, "").startsWith("edge"))) {
    // Envoy's Lua filter runs under LuaJIT in edge/envoy_lua_test.ts.
    await ensureLuajit(say).catch((e) =>
      say(`luajit could not be installed: ${e instanceof Error ? e.message : e}`)
    );
  }
  if (paths.some((p) => p === "." || p.replace(/^\.\//, "").startsWith("tests"))) {
    // The API fuzzer (PyPI) of tests/fuzz, in its own virtualenv; quick once installed.
    await ensureSchemathesis(say).catch((e) =>
      say(`schemathesis could not be installed: ${e instanceof Error ? e.message : e}`)
    );
  }
  if (paths.some((p) => covers(p, "deploy"))) {
    // The offline validation of deploy/k8s and deploy/envoy: kubeconform, kustomize (where
    // kubectl is missing), the Envoy validator, the Kubernetes schemas.
    await ensureK8sTools(say).catch((e) =>
      say(`the k8s validation tools could not be installed: ${e instanceof Error ? e.message : e}`)
    );
  }
  if (!(await ensureAptTool("tmux", ["-V"], "tmux", "the terminal dashboard's test", say))) {
    say("no tmux (and it could not be installed): the `deno task top` test will fail");
  }
  const code = await runDenoTest(paths);
  const secs = ((performance.now() - t0) / 1000).toFixed(1);

  if (!Deno.env.get("STOCKLET_KEEP_STACK")) {
    const appsNow = (await stackApps()).filter((a) => appPid("test", a) !== undefined);
    if (appsNow.some((a) => !appsBefore.has(a))) {
      say("stopping the test stack's services");
      await stopTestStack();
    } else if (!collectorBefore) await stopCollector("test");
    const startedInfra = COMPONENTS.filter((c) => !infraBefore.has(c));
    if (startedInfra.length) {
      say(`stopping the test infrastructure this run started (${startedInfra.join(", ")})`);
      for (const c of [...startedInfra].reverse()) await stopComponent(cfg, c);
    }
  }

  let xml = "";
  try {
    xml = await Deno.readTextFile(JUNIT_PATH);
  } catch {
    say("no JUnit report was written (type errors or a module that failed to load?)");
    console.log("0 passed, 1 failed");
    return 1;
  }
  const c = countJunit(xml);
  const failed = c.failed + (code !== 0 && c.failed === 0 ? 1 : 0);
  say(`${secs} s, ${c.skipped} skipped; report in ${JUNIT_PATH}`);
  console.log(`${c.passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main());
