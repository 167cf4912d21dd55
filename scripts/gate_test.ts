import assert from "node:assert/strict";
import { GATE, runCheck } from "./check.ts";

for (const check of GATE) {
  Deno.test(`quality gate: ${check.name}`, async () => {
    const r = await runCheck(check);
    assert.equal(r.code, 0, `${check.name} failed:\n${(r.stdout + r.stderr).slice(-4000)}`);
  });
}
