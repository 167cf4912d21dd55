/**
 * The trim against glibc's real heap: native memory malloc'd and freed below a live allocation
 * stays resident until a trim gives it back.
 */
import assert from "node:assert/strict";
import { ConfigError } from "./config.ts";
import {
  DEFAULT_TRIM_INTERVAL_MS,
  trimIntervalFromEnv,
  trimNativeHeap,
  trimNativeHeapEvery,
} from "./native_heap.ts";

const MiB = 1024 * 1024;

const libc = Deno.dlopen("libc.so.6", {
  malloc: { parameters: ["usize"], result: "pointer" },
  free: { parameters: ["pointer"], result: "void" },
  memset: { parameters: ["pointer", "i32", "usize"], result: "pointer" },
});

/** Resident bytes of this process. */
const rss = () => Deno.memoryUsage().rss;

/**
 * Leaves `mib` MiB freed inside the heap: blocks under glibc's mmap threshold, written so they are
 * resident, each followed by a small block that stays, so that no freed block can merge into the
 * heap's top (which `free()` itself would give back) wherever the allocator places them.
 * @returns the blocks that stay, for {@linkcode release}
 */
function freedBelowTop(mib: number): Deno.PointerValue[] {
  const size = 32 * 1024;
  const blocks: Deno.PointerValue[] = [];
  const pins: Deno.PointerValue[] = [];
  for (let i = 0; i < (mib * MiB) / size; i++) {
    const p = libc.symbols.malloc(BigInt(size));
    libc.symbols.memset(p, 1, BigInt(size));
    blocks.push(p);
    pins.push(libc.symbols.malloc(64n));
  }
  for (const p of blocks) libc.symbols.free(p);
  return pins;
}

function release(pins: Deno.PointerValue[]): void {
  for (const p of pins) libc.symbols.free(p);
}

Deno.test("trimNativeHeap() gives back what was freed inside the heap", () => {
  const pins = freedBelowTop(64);
  try {
    const before = rss();
    assert.equal(trimNativeHeap(), true, "glibc says it returned memory");
    const given = before - rss();
    assert.ok(given > 48 * MiB, `gave back ${(given / MiB).toFixed(1)} MiB of the 64 freed`);
  } finally {
    release(pins);
  }
});

Deno.test("trimNativeHeapEvery() trims on its own until stopped", async () => {
  const stop = trimNativeHeapEvery(20);
  const pins = freedBelowTop(64);
  try {
    const before = rss();
    await new Promise((r) => setTimeout(r, 200));
    const given = before - rss();
    assert.ok(given > 48 * MiB, `gave back ${(given / MiB).toFixed(1)} MiB of the 64 freed`);
  } finally {
    stop();
    release(pins);
  }
  // Stopped: what is freed now stays until someone trims.
  const again = freedBelowTop(64);
  try {
    const before = rss();
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(before - rss() < 16 * MiB, "no trim after stop()");
  } finally {
    release(again);
    trimNativeHeap();
  }
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
