/**
 * Schemathesis fuzzes the public API through the edge of the test stack, from the OpenAPI document
 * the edge serves, as a visitor (no token), a customer and an admin. Checks: no 5xx
 * (`not_a_server_error`) and every answer matches its documented schema
 * (`response_schema_conformance`), with a fixed seed so a run is reproducible. Every finding it
 * made along the way is a regular regression test elsewhere (tests/e2e/hostile_test.ts,
 * shared/validation_test.ts, …); this keeps new ones from creeping in.
 *
 * Schemathesis is installed by `deno task test` (scripts/lib/schemathesis.ts) into
 * .stocklet/venv/schemathesis; the counts of each run go to
 * .stocklet/test-results/schemathesis/summary.json.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ensureSchemathesis } from "@stocklet/scripts/schemathesis";
import { STATE_DIR } from "@stocklet/scripts/paths";
import { api } from "@stocklet/testing/stack";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** The fixed seed: the same cases every run. */
export const FUZZ_SEED = 13;
/** Test cases per operation and phase (a few minutes in all for the three roles). */
export const FUZZ_EXAMPLES = 12;

const CONFIG = new URL("./schemathesis.toml", import.meta.url).pathname;
const REPORTS = join(STATE_DIR, "test-results", "schemathesis");

/** What one run did, from schemathesis' JSON report. */
interface RunCounts {
  role: string;
  operations: number;
  testCases: number;
  failures: number;
  errors: number;
  seconds: number;
}

/**
 * Operations a role skips because another role's run covers them already: registration and login
 * ignore who calls (the visitor fuzzes them), and a password change is the caller's own whatever
 * the role (the customer fuzzes it). They run scrypt at OWASP's cost, most of a run's time.
 */
const COVERED_ELSEWHERE: Record<string, readonly string[]> = {
  visitor: [],
  customer: ["UserService_RegisterUser", "AuthService_LoginPassword"],
  admin: ["UserService_RegisterUser", "AuthService_LoginPassword", "AuthService_SetPassword"],
};

async function fuzzAs(role: string, token: string | undefined): Promise<RunCounts> {
  const a = await api();
  assert.ok(a.stack.edgeUrl, "the test stack has an edge");
  const st = await ensureSchemathesis();
  const dir = join(REPORTS, role);
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.mkdir(dir, { recursive: true });
  const args = [
    "--config-file",
    CONFIG,
    "run",
    `${a.stack.edgeUrl}/openapi.json`,
    "--checks",
    "not_a_server_error,response_schema_conformance",
    "--phases",
    "examples,coverage,fuzzing",
    "--max-examples",
    String(FUZZ_EXAMPLES),
    "--seed",
    String(FUZZ_SEED),
    "--workers",
    "1",
    // Logins and registrations run scrypt at OWASP's cost: slow on a busy machine.
    "--request-timeout",
    "60",
    "--report",
    "json,junit",
    "--report-dir",
    dir,
    "--no-color",
    ...(token ? ["--header", `Authorization: Bearer ${token}`] : []),
    ...COVERED_ELSEWHERE[role]!.flatMap((id) => ["--exclude-operation-id", id]),
  ];
  const out = await new Deno.Command(st, {
    args,
    // Schemathesis keeps a cache in its working directory: in the role's (wiped) report folder,
    // so every run starts from the seed alone.
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  await Deno.writeTextFile(join(dir, "output.txt"), text);
  const reports = [...Deno.readDirSync(dir)].filter((e) => /^json-.*\.json$/.test(e.name));
  assert.equal(reports.length, 1, `no JSON report from schemathesis:\n${text.slice(-4000)}`);
  const report = JSON.parse(await Deno.readTextFile(join(dir, reports[0]!.name)));
  const counts: RunCounts = {
    role,
    operations: report.operations.tested,
    testCases: report.test_cases.generated,
    failures: report.test_cases.with_failures,
    errors: report.test_cases.errored + (report.errors?.length ?? 0),
    seconds: Math.round(report.running_time),
  };
  const summaryFile = join(REPORTS, "summary.json");
  const summary = JSON.parse(await Deno.readTextFile(summaryFile).catch(() => "{}"));
  summary[role] = counts;
  await Deno.writeTextFile(summaryFile, JSON.stringify(summary, null, 2) + "\n");
  console.error(
    `schemathesis as ${role}: ${counts.testCases} test cases, ${counts.failures} failing, ` +
      `${counts.errors} errors, ${counts.seconds} s (seed ${FUZZ_SEED})`,
  );
  assert.equal(out.code, 0, `schemathesis found problems as ${role}:\n${text.slice(-6000)}`);
  assert.equal(counts.failures, 0);
  assert.equal(counts.errors, 0);
  assert.equal(report.complete, true, "the run completed");
  assert.ok(counts.testCases > 100, `only ${counts.testCases} test cases`);
  assert.equal(counts.operations, report.operations.selected, "every operation was tested");
  assert.equal(
    report.operations.selected + COVERED_ELSEWHERE[role]!.length,
    report.operations.total,
    "only the operations other roles cover are left out",
  );
  return counts;
}

Deno.test(
  "schemathesis through the edge as a visitor: no 5xx, every answer as documented",
  opts,
  async () => {
    await fuzzAs("visitor", undefined);
  },
);

Deno.test(
  "schemathesis through the edge as a customer: no 5xx, every answer as documented",
  opts,
  async () => {
    const a = await api();
    await fuzzAs("customer", (await a.customer()).token);
  },
);

Deno.test(
  "schemathesis through the edge as an admin: no 5xx, every answer as documented",
  opts,
  async () => {
    const a = await api();
    await fuzzAs("admin", await a.adminToken());
  },
);
