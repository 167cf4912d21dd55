/**
 * `deno task top [--stack dev|test] [--interval 2] [--window 10] [--once]`: a live terminal
 * dashboard of a running stack, refreshing in place like `htop`: per service the request rate,
 * failures, p99, events consumed, consumer lag, dead letters and outbox backlog; the saga's
 * orders per second by outcome and place → terminal p50/p99. It reads the stack's collector
 * (`deno task dev` runs one; so does the test stack). `--once` prints one screen and exits.
 */
import { parseArgs } from "node:util";
import type { InfraProfile } from "./infra/config.ts";
import { collectorPort } from "./stack/config.ts";
import { fetchMetrics } from "./top/client.ts";
import { plain, renderTop } from "./top/render.ts";
import { TOP_METRICS, topView } from "./top/view.ts";

/** One screen of a collector's metrics. */
export async function topScreen(
  collectorUrl: string,
  windowMs: number,
  source: string,
): Promise<string[]> {
  const m = await fetchMetrics(collectorUrl, { names: TOP_METRICS, windowMs: windowMs + 5_000 });
  return renderTop(topView(m.series, m.now, windowMs), { source });
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      stack: { type: "string", default: "dev" },
      interval: { type: "string", default: "2" },
      window: { type: "string", default: "10" },
      collector: { type: "string" },
      once: { type: "boolean", default: false },
    },
  });
  const profile = values.stack as InfraProfile;
  if (profile !== "dev" && profile !== "test") {
    console.error("usage: deno task top [--stack dev|test] [--interval S] [--window S] [--once]");
    return 2;
  }
  const url = values.collector ?? `http://127.0.0.1:${collectorPort(profile)}`;
  const source = `${profile} stack, collector ${new URL(url).host}`;
  const windowMs = Number(values.window) * 1000;
  const intervalMs = Math.max(250, Number(values.interval) * 1000);
  const screen = async () => {
    try {
      return await topScreen(url, windowMs, source);
    } catch (e) {
      return [
        `Stocklet top  ${source}`,
        "",
        `cannot read ${url}: ${e instanceof Error ? e.message : e}`,
        `(is \`deno task dev\` running, or the test stack? --stack ${
          profile === "dev" ? "test" : "dev"
        })`,
      ];
    }
  };
  const out = (s: string) => Deno.stdout.writeSync(new TextEncoder().encode(s));
  if (values.once || !Deno.stdout.isTerminal()) {
    const lines = await screen();
    out((Deno.stdout.isTerminal() ? lines : lines.map(plain)).join("\n") + "\n");
    return 0;
  }

  // The alternate screen, redrawn in place; the terminal is restored on the way out.
  out("\x1b[?1049h\x1b[?25l");
  let done = false;
  const quit = () => {
    done = true;
  };
  Deno.addSignalListener("SIGINT", quit);
  Deno.addSignalListener("SIGTERM", quit);
  if (Deno.stdin.isTerminal()) {
    Deno.stdin.setRaw(true, { cbreak: true });
    (async () => {
      const buf = new Uint8Array(16);
      while (!done) {
        const n = await Deno.stdin.read(buf);
        if (n === null) break;
        if (buf.subarray(0, n).some((b) => b === 0x71 || b === 0x03)) quit(); // q, Ctrl-C
      }
    })();
  }
  try {
    while (!done) {
      const lines = await screen();
      out("\x1b[H" + lines.map((l) => l + "\x1b[K").join("\n") + "\x1b[J");
      const until = Date.now() + intervalMs;
      while (!done && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    out("\x1b[?25h\x1b[?1049l");
    if (Deno.stdin.isTerminal()) Deno.stdin.setRaw(false);
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main());
