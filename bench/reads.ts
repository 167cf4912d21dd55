/**
 * REST read throughput at a fixed concurrency: `wrk` (installed from Debian when missing and we
 * are root) with a small Lua script that prints its numbers as JSON, or a Deno loop of keep-alive
 * fetches when wrk cannot be had.
 * @module
 */

/** The result of one read benchmark. */
export interface ReadResult {
  name: string;
  tool: "wrk" | "deno";
  url: string;
  connections: number;
  seconds: number;
  requests: number;
  rps: number;
  /** Non-2xx answers, timeouts and socket errors. */
  errors: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number; mean: number };
}

/** The Lua script that makes wrk print a JSON line at the end. */
export const WRK_SCRIPT = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"durationUs":%d,"connect":%d,"read":%d,"write":%d,"status":%d,' ..
    '"timeout":%d,"p50":%d,"p95":%d,"p99":%d,"max":%d,"mean":%.1f}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    latency.mean))
end
`;

/** Parses the JSON line the script prints (latencies in µs) into a result. Pure. */
export function parseWrkOutput(
  out: string,
  meta: { name: string; url: string; connections: number },
): ReadResult {
  const line = out.split("\n").find((l) => l.startsWith("BENCHJSON "));
  if (!line) throw new Error(`wrk printed no result:\n${out.slice(-2000)}`);
  const j = JSON.parse(line.slice("BENCHJSON ".length)) as Record<string, number>;
  const seconds = j.durationUs! / 1e6;
  const ms = (us: number) => Math.round(us / 10) / 100;
  return {
    ...meta,
    tool: "wrk",
    seconds,
    requests: j.requests!,
    rps: Math.round(j.requests! / seconds),
    errors: j.connect! + j.read! + j.write! + j.status! + j.timeout!,
    latencyMs: {
      p50: ms(j.p50!),
      p95: ms(j.p95!),
      p99: ms(j.p99!),
      max: ms(j.max!),
      mean: ms(j.mean!),
    },
  };
}

async function hasWrk(): Promise<boolean> {
  try {
    await new Deno.Command("wrk", { args: ["-v"], stdout: "null", stderr: "null" }).output();
    return true;
  } catch {
    return false;
  }
}

/** Whether wrk is available, installing it with apt-get when missing and running as root. */
export async function ensureWrk(log: (line: string) => void = () => {}): Promise<boolean> {
  if (await hasWrk()) return true;
  if (Deno.uid() !== 0) return false;
  log("reads: installing wrk (apt-get install -y wrk)…");
  const apt = (args: string[]) =>
    new Deno.Command("apt-get", {
      args,
      env: { DEBIAN_FRONTEND: "noninteractive" },
      stdout: "null",
      stderr: "null",
    }).output().then((r) => r.success).catch(() => false);
  if (!(await apt(["install", "-y", "wrk"]))) {
    await apt(["update"]);
    await apt(["install", "-y", "wrk"]);
  }
  return await hasWrk();
}

/** Options of one read benchmark. */
export interface ReadOptions {
  name: string;
  url: string;
  headers?: Record<string, string>;
  connections: number;
  seconds: number;
  /** Use wrk when true (see {@linkcode ensureWrk}), else the Deno loop. */
  wrk: boolean;
}

/** Runs one read benchmark. */
export async function runReads(o: ReadOptions): Promise<ReadResult> {
  return o.wrk ? await viaWrk(o) : await viaDeno(o);
}

async function viaWrk(o: ReadOptions): Promise<ReadResult> {
  const script = await Deno.makeTempFile({ suffix: ".lua" });
  try {
    await Deno.writeTextFile(script, WRK_SCRIPT);
    const args = [
      "-t",
      String(Math.min(2, o.connections)),
      "-c",
      String(o.connections),
      "-d",
      `${o.seconds}s`,
      "--timeout",
      "5s",
      "-s",
      script,
    ];
    for (const [k, v] of Object.entries(o.headers ?? {})) args.push("-H", `${k}: ${v}`);
    args.push(o.url);
    const r = await new Deno.Command("wrk", { args, stdout: "piped", stderr: "piped" }).output();
    const text = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
    return parseWrkOutput(text, { name: o.name, url: o.url, connections: o.connections });
  } finally {
    await Deno.remove(script).catch(() => {});
  }
}

async function viaDeno(o: ReadOptions): Promise<ReadResult> {
  const lat: number[] = [];
  let errors = 0;
  const t0 = performance.now();
  const end = t0 + o.seconds * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      const s = performance.now();
      try {
        const res = await fetch(o.url, {
          headers: o.headers ?? {},
          signal: AbortSignal.timeout(5000),
        });
        await res.arrayBuffer();
        if (res.status >= 400) errors++;
      } catch {
        errors++;
      }
      lat.push(performance.now() - s);
    }
  };
  await Promise.all(Array.from({ length: o.connections }, worker));
  const seconds = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  const at = (p: number) => lat[Math.min(lat.length - 1, Math.ceil((p / 100) * lat.length) - 1)];
  const r2 = (v: number | undefined) => Math.round((v ?? NaN) * 100) / 100;
  return {
    name: o.name,
    tool: "deno",
    url: o.url,
    connections: o.connections,
    seconds,
    requests: lat.length,
    rps: Math.round(lat.length / seconds),
    errors,
    latencyMs: {
      p50: r2(at(50)),
      p95: r2(at(95)),
      p99: r2(at(99)),
      max: r2(lat[lat.length - 1]),
      mean: r2(lat.reduce((a, b) => a + b, 0) / Math.max(1, lat.length)),
    },
  };
}
