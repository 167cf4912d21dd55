import assert from "node:assert/strict";
import { claimRow } from "./claim.ts";

Deno.test("claimRow() reports a won claim without reading the row", async () => {
  let locked = false;
  const c = await claimRow(() => Promise.resolve(true), () => {
    locked = true;
    return Promise.resolve({ status: 1 });
  });
  assert.deepEqual(c, { claimed: true });
  assert.equal(locked, false);
});

Deno.test("claimRow() hands over the locked row when the claim is lost", async () => {
  const c = await claimRow(() => Promise.resolve(false), () => Promise.resolve({ status: 2 }));
  assert.deepEqual(c, { claimed: false, current: { status: 2 } });
  await assert.rejects(
    claimRow(() => Promise.resolve(false), () => Promise.resolve(undefined)),
    /cannot be read/,
  );
});
