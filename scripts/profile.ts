/**
 * `deno run -A scripts/profile.ts <host:port> [seconds] [top]`: records a CPU profile of a Deno
 * process started with `--inspect` (see `STOCKLET_INSPECT` in scripts/stack/config.ts) and prints
 * where its time went: self time per function and per package, biggest first. The raw profile is
 * written next to it as `.cpuprofile` (Chrome DevTools opens it).
 * @module
 */

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Self time (ms) per function and per package of a profile. */
export function summarize(p: Profile): {
  total: number;
  byFunction: Array<[string, number]>;
  byPackage: Array<[string, number]>;
} {
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const dt = (p.timeDeltas[i + 1] ?? 0) / 1000;
    self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + dt);
  }
  const byFn = new Map<string, number>();
  const byPkg = new Map<string, number>();
  let total = 0;
  for (const n of p.nodes) {
    const t = self.get(n.id) ?? 0;
    if (!t) continue;
    const { functionName, url, lineNumber } = n.callFrame;
    if (functionName === "(idle)" || functionName === "(program)") continue;
    total += t;
    const short = url.replace(/^.*\/registry\.npmjs\.org\//, "npm:").replace(
      /^file:\/\/\/work\/[^/]+\//,
      "",
    );
    const key = `${functionName || "(anonymous)"} ${short}:${lineNumber + 1}`;
    byFn.set(key, (byFn.get(key) ?? 0) + t);
    const pkg = /^npm:(@[^/]+\/[^/]+|[^/]+)/.exec(short)?.[1] ??
      (short.startsWith("ext:") || short.startsWith("node:")
        ? "deno runtime"
        : short
        ? short.split("/").slice(0, 2).join("/")
        : functionName);
    byPkg.set(pkg, (byPkg.get(pkg) ?? 0) + t);
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return { total, byFunction: sorted(byFn), byPackage: sorted(byPkg) };
}

if (import.meta.main) {
  const [target, secs = "10", top = "30"] = Deno.args;
  if (!target) {
    console.error("usage: scripts/profile.ts <host:port> [seconds] [top]");
    Deno.exit(2);
  }
  const list = await (await fetch(`http://${target}/json/list`)).json() as Array<
    { webSocketDebuggerUrl: string }
  >;
  const ws = new WebSocket(list[0]!.webSocketDebuggerUrl);
  await new Promise((r) => ws.onopen = r);
  let id = 0;
  const pending = new Map<number, (v: unknown) => void>();
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m.id && pending.has(m.id)) pending.get(m.id)!(m.result);
  };
  const call = (method: string, params: unknown = {}) =>
    new Promise<unknown>((resolve) => {
      pending.set(++id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  await call("Profiler.enable");
  await call("Profiler.setSamplingInterval", { interval: 500 });
  await call("Profiler.start");
  await new Promise((r) => setTimeout(r, Number(secs) * 1000));
  const { profile } = await call("Profiler.stop") as { profile: Profile };
  ws.close();
  const file = `/tmp/profile-${target.replace(":", "-")}.cpuprofile`;
  await Deno.writeTextFile(file, JSON.stringify(profile));
  const s = summarize(profile);
  console.log(`busy ${(s.total / 1000).toFixed(2)} s of ${secs} s (${file})`);
  console.log("\nby package:");
  for (const [k, v] of s.byPackage.slice(0, 15)) {
    console.log(`  ${v.toFixed(0).padStart(7)} ms  ${k}`);
  }
  console.log("\nby function (self):");
  for (const [k, v] of s.byFunction.slice(0, Number(top))) {
    console.log(`  ${v.toFixed(0).padStart(7)} ms  ${k}`);
  }
  Deno.exit(0);
}
