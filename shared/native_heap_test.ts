/**
 * The trim against glibc's real heap, each case in a fresh process (testdata/native_heap_probe.ts):
 * native memory malloc'd and freed between live allocations stays resident until a trim gives it
 * back.
 */
import assert from "node:assert/strict";
import { ConfigError } from "./config.ts";
import {
  DEFAULT_TRIM_INTERVAL_MS,
  trimIntervalFromEnv,
  trimNativeHeapEvery,
} from "./native_heap.ts";

/** Runs the probe in a fresh process and returns how much it gave back. */
async function probe(mode: "once" | "every" | "stopped"): Promise<
  { givenMiB: number; trimmed: boolean }
> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./testdata/native_heap_probe.ts", import.meta.url).pathname, mode],
    stderr: "inherit",
  }).output();
  assert.equal(out.code, 0, `the probe (${mode}) failed`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

Deno.test("trimNativeHeap() gives back what was freed inside the heap", async () => {
  const { givenMiB, trimmed } = await probe("once");
  assert.equal(trimmed, true, "glibc says it returned memory");
  assert.ok(givenMiB > 48, `gave back ${givenMiB.toFixed(1)} MiB of the 64 freed`);
});

Deno.test("trimNativeHeapEvery() trims on its own, and not once stopped", async () => {
  const every = await probe("every");
  assert.ok(every.givenMiB > 48, `gave back ${every.givenMiB.toFixed(1)} MiB of the 64 freed`);
  const stopped = await probe("stopped");
  assert.ok(stopped.givenMiB < 16, `stopped, yet gave back ${stopped.givenMiB.toFixed(1)} MiB`);
});

Deno.test("MALLOC_TRIM_INTERVAL_MS: default, off, and refused values", () => {
  assert.equal(trimIntervalFromEnv({}), DEFAULT_TRIM_INTERVAL_MS);
  assert.equal(trimIntervalFromEnv({ MALLOC_TRIM_INTERVAL_MS: "0" }), 0);
  assert.equal(trimIntervalFromEnv({ MALLOC_TRIM_INTERVAL_MS: "10000" }), 10_000);
  for (const bad of ["-1", "5s", "1.5"]) {
    assert.throws(
      () => trimIntervalFromEnv({ MALLOC_TRIM_INTERVAL_MS: bad }),
      (e: unknown) => e instanceof ConfigError && /MALLOC_TRIM_INTERVAL_MS/.test(e.message),
      bad,
    );
  }
  assert.equal(trimNativeHeapEvery(0)(), undefined, "0: nothing started, nothing to stop");
});
