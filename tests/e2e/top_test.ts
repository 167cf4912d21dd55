/**
 * `deno task top` as a person sees it: run in a real terminal (tmux), against the test stack while
 * orders go through, it shows every service and the saga, redraws in place, and quits on `q`. The
 * screen it showed is kept as a picture: `.stocklet/test-results/top.svg`, and `docs/top.svg`
 * (the README's) when `STOCKLET_UPDATE_DOCS=1`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { api } from "@stocklet/testing/stack";
import { ROOT, STATE_DIR } from "@stocklet/scripts/paths";
import { plain } from "@stocklet/scripts/top/render";
import { terminalSvg } from "@stocklet/scripts/top/svg";

const opts = { sanitizeOps: false, sanitizeResources: false };
const socket = `stocklet-top-${Deno.env.get("STOCKLET_TEST_PORT_SHIFT") ?? "0"}`;

async function tmux(...args: string[]): Promise<{ ok: boolean; out: string }> {
  const r = await new Deno.Command("tmux", {
    args: ["-L", socket, ...args],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  return {
    ok: r.success,
    out: new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr),
  };
}

/** The pane's lines, with their colours. */
async function screen(): Promise<string[]> {
  const r = await tmux("capture-pane", "-p", "-e", "-t", "top");
  assert.ok(r.ok, r.out);
  const lines = r.out.replace(/\n$/, "").split("\n");
  while (lines.length && plain(lines.at(-1)!).trim() === "") lines.pop();
  return lines;
}

async function until(
  what: string,
  check: (lines: string[]) => boolean,
  ms = 30_000,
): Promise<string[]> {
  const deadline = Date.now() + ms;
  let lines: string[] = [];
  while (Date.now() < deadline) {
    lines = await screen();
    if (check(lines.map(plain))) return lines;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}; the screen:\n${lines.map(plain).join("\n")}`);
}

Deno.test(
  "top: a live dashboard of the test stack in a terminal, redrawn in place, q quits",
  opts,
  async () => {
    const a = await api();
    // Some sagas to show: approved ones and a rejected one.
    const p = await a.product(450, 20);
    const rich = await a.customer();
    const poor = await a.customer();
    await a.credit(rich.id, 100_000n);
    const placed = await Promise.all([
      ...[1, 2, 3].map(() => a.place(rich, { [p]: 1 })),
      a.place(poor, { [p]: 1 }),
    ]);
    await Promise.all(placed.map((o, i) => a.settled(i < 3 ? rich : poor, o.id)));

    await tmux("kill-server").catch(() => {});
    const started = await tmux(
      "new-session",
      "-d",
      "-s",
      "top",
      "-x",
      "96",
      "-y",
      "24",
      "-e",
      `STOCKLET_TEST_PORT_SHIFT=${Deno.env.get("STOCKLET_TEST_PORT_SHIFT") ?? "0"}`,
      `${Deno.execPath()} run -A ${
        join(ROOT, "scripts", "top.ts")
      } --stack test --interval 1 --window 60`,
    );
    assert.ok(started.ok, started.out);
    try {
      const shown = await until("the services and the saga's approved orders", (lines) => {
        const approved = Number(/approved (\d+\.\d)/.exec(lines.join("\n"))?.[1] ?? 0);
        return ["edge", "order", "payment", "product", "shipping", "user", "warehouse", "auth"]
          .every(
            (svc) => lines.some((l) => l.startsWith(svc)),
          ) && approved > 0 && lines.some((l) => /p50 [\d,]+ ms/.test(l));
      });
      const text = shown.map(plain);
      assert.match(
        text[0]!,
        /^Stocklet top\s+test stack, collector 127\.0\.0\.1:\d+\s+\d\d:\d\d:\d\d/,
      );
      assert.ok(
        text.some((l) =>
          /^SERVICE\s+REQ\/S\s+ERR%\s+P99 ms\s+EVENTS\/S\s+LAG\s+DLQ\s+OUTBOX\s+MEM MiB/.test(l)
        ),
      );
      const order = text.find((l) => l.startsWith("order"))!;
      // `order ×2` when the stack runs replicas (STOCKLET_REPLICAS).
      assert.match(
        order,
        /^order(?: ×\d)?\s+\d+\.\d\s+\d+\.\d\s+[\d.]+\s+[\d.]+\s+\d+\s+\d+\s+\d+\s+\d+$/,
      );
      assert.ok(text.some((l) => /rejected by reason: .*payment_failed/.test(l)), text.join("\n"));

      // Redrawn in place: the clock moves, the layout stays, nothing scrolls.
      const clock = /(\d\d:\d\d:\d\d)/.exec(text[0]!)![1];
      const later = await until("the next refresh", (lines) => !lines[0]!.includes(clock!), 10_000);
      assert.equal(later.length, shown.length);
      const history = await tmux("display-message", "-p", "-t", "top", "#{history_size}");
      assert.equal(history.out.trim(), "0", "no line scrolled off the screen");

      const svg = terminalSvg(shown, { columns: 96, title: "deno task top" });
      await Deno.mkdir(join(STATE_DIR, "test-results"), { recursive: true });
      await Deno.writeTextFile(join(STATE_DIR, "test-results", "top.svg"), svg);
      if (Deno.env.get("STOCKLET_UPDATE_DOCS") === "1") {
        await Deno.writeTextFile(join(ROOT, "docs", "top.svg"), svg);
      }

      await tmux("send-keys", "-t", "top", "q");
      const deadline = Date.now() + 10_000;
      while ((await tmux("has-session", "-t", "top")).ok && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal((await tmux("has-session", "-t", "top")).ok, false, "q quits");
    } finally {
      await tmux("kill-server");
    }
  },
);
