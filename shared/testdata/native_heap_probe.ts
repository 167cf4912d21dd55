/**
 * A fresh process for the trim's tests (shared/native_heap_test.ts): a test runner's own heap,
 * after hundreds of tests, says little about one trim. Leaves 64 MiB freed inside glibc's heap,
 * then prints how much resident memory went back: at once after `trimNativeHeap()` (`once`),
 * within 200 ms of `trimNativeHeapEvery(20)` (`every`), or with that trimmer stopped (`stopped`).
 * Prints `{"freedMiB": …, "givenMiB": …, "trimmed": …}`.
 */
import { trimNativeHeap, trimNativeHeapEvery } from "../native_heap.ts";

const MiB = 1024 * 1024;
const libc = Deno.dlopen("libc.so.6", {
  malloc: { parameters: ["usize"], result: "pointer" },
  free: { parameters: ["pointer"], result: "void" },
  memset: { parameters: ["pointer", "i32", "usize"], result: "pointer" },
});
const rss = () => Deno.memoryUsage().rss;

/**
 * Leaves `mib` MiB freed inside the heap: blocks under glibc's mmap threshold, written so they are
 * resident, each followed by a small block that stays, so that no freed block can merge into the
 * heap's top (which `free()` itself would give back) wherever the allocator places them.
 */
function freedBelowTop(mib: number): void {
  const size = 32 * 1024;
  const blocks: Deno.PointerValue[] = [];
  for (let i = 0; i < (mib * MiB) / size; i++) {
    const p = libc.symbols.malloc(BigInt(size));
    libc.symbols.memset(p, 1, BigInt(size));
    blocks.push(p);
    libc.symbols.malloc(64n); // stays until the process ends
  }
  for (const p of blocks) libc.symbols.free(p);
}

const mode = Deno.args[0];
let trimmed = false;
const stop = mode === "once" ? undefined : trimNativeHeapEvery(20);
if (mode === "stopped") stop!();
freedBelowTop(64);
const before = rss();
if (mode === "once") trimmed = trimNativeHeap();
else await new Promise((r) => setTimeout(r, 200));
const after = rss();
stop?.();
console.log(JSON.stringify({ freedMiB: 64, givenMiB: (before - after) / MiB, trimmed }));
