import assert from "node:assert/strict";
import { countJunit } from "./junit.ts";

Deno.test("countJunit() counts passes, failures and skips, steps included", () => {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="deno test" tests="5" failures="2" errors="0" time="0.1">
  <testsuite name="./a_test.ts" tests="5" disabled="1" errors="0" failures="2">
    <testcase name="ok one" classname="./a_test.ts" time="0.001" line="1" col="6">
    </testcase>
    <testcase name="ok two" classname="./a_test.ts" time="0.001" line="2" col="6"/>
    <testcase name="bad" classname="./a_test.ts" time="0.001" line="3" col="6">
      <failure message="boom">stack</failure>
    </testcase>
    <testcase name="parent &gt; step" classname="./a_test.ts" time="0.001" line="4" col="6">
      <failure message="1 test step failed">x</failure>
    </testcase>
    <testcase name="later" classname="./a_test.ts" time="0" line="5" col="6">
      <skipped/>
    </testcase>
  </testsuite>
</testsuites>`;
  assert.deepEqual(countJunit(xml), { passed: 2, failed: 2, skipped: 1 });
});
