/**
 * `deno task lighthouse [--stack test|dev]`: Lighthouse (npm `lighthouse`, run by Deno) drives the
 * same local Chromium as the browser tests (Debian's, installed when missing) against the
 * storefront's catalogue, as a visitor, and an approved order's page, as its customer, each on a
 * cold cache, with Lighthouse's mobile (slow 4G, 4× slower CPU, simulated) and desktop settings.
 * It prints the scores for performance, accessibility and best practices with the page weight and
 * time to interactive, writes the full reports under `.stocklet/lighthouse/`, and fails when a
 * score is below 90.
 *
 * The default is the test stack (started or reused, like the tests); `--stack dev` measures a
 * running `deno task dev`.
 * @module
 */
import { join } from "node:path";
import * as chromeLauncher from "chrome-launcher";
import lighthouse, { type Flags, type RunnerResult } from "lighthouse";
import desktopConfig from "lighthouse/core/config/desktop-config.js";
import { CHROMIUM_ARGS, ensureChromium } from "./browser/chromium.ts";
import { client, seedDemo } from "./dev/seed.ts";
import { STATE_DIR } from "./lib/paths.ts";
import { stackPorts } from "./stack/config.ts";

/** The categories measured, and the score each must reach. */
export const CATEGORIES = ["performance", "accessibility", "best-practices"] as const;
/** The lowest acceptable score (0–100). */
export const MIN_SCORE = 90;

/** One page's measurements. */
export interface PageScores {
  page: string;
  formFactor: "mobile" | "desktop";
  scores: Record<(typeof CATEGORIES)[number], number>;
  /** Bytes transferred on a cold cache. */
  weightBytes: number;
  requests: number;
  fcpMs: number;
  lcpMs: number;
  ttiMs: number;
  tbtMs: number;
  cls: number;
}

function numeric(r: RunnerResult, audit: string): number {
  return Math.round((r.lhr.audits[audit]?.numericValue ?? NaN) * 1000) / 1000;
}

function scoresOf(page: string, formFactor: PageScores["formFactor"], r: RunnerResult): PageScores {
  const scores = Object.fromEntries(
    CATEGORIES.map((c) => [c, Math.round((r.lhr.categories[c]?.score ?? 0) * 100)]),
  ) as PageScores["scores"];
  const requests = (r.lhr.audits["network-requests"]?.details as { items?: unknown[] } | undefined)
    ?.items?.length ?? 0;
  return {
    page,
    formFactor,
    scores,
    weightBytes: numeric(r, "total-byte-weight"),
    requests,
    fcpMs: numeric(r, "first-contentful-paint"),
    lcpMs: numeric(r, "largest-contentful-paint"),
    ttiMs: numeric(r, "interactive"),
    tbtMs: numeric(r, "total-blocking-time"),
    cls: numeric(r, "cumulative-layout-shift"),
  };
}

/** The storefront's public door and the admin account of a stack. */
async function target(
  kind: "test" | "dev",
): Promise<{ edge: string; admin: { email: string; password: string } }> {
  if (kind === "dev") {
    return {
      edge: `http://127.0.0.1:${stackPorts("dev").edge}`,
      admin: {
        email: Deno.env.get("STOCKLET_ADMIN_EMAIL") ?? "admin@stocklet.local",
        password: Deno.env.get("STOCKLET_ADMIN_PASSWORD") ?? "stocklet-admin",
      },
    };
  }
  const { ensureTestStack, TEST_SETTINGS } = await import("./stack/test_stack.ts");
  const stack = await ensureTestStack({ log: (l) => console.error(l) });
  if (!stack.edgeUrl) throw new Error("the test stack has no edge");
  return {
    edge: stack.edgeUrl,
    admin: {
      email: TEST_SETTINGS.adminEmail,
      password: TEST_SETTINGS.adminPassword,
    },
  };
}

/** The demo customer's token and an approved order of theirs. */
async function approvedOrder(edge: string, admin: { email: string; password: string }) {
  const call = client(() => edge);
  const demo = await seedDemo(call, admin);
  const placed = await call("POST", "/v1/order/place", {
    token: demo.customer.token,
    body: { [demo.products[0]!.id]: 1 },
  });
  if (placed.status !== 200) throw new Error(`placing an order → ${placed.status}`);
  const id = (placed.json.order as { id: string }).id;
  for (let i = 0; i < 200; i++) {
    const r = await call("GET", `/v1/order/orders/${id}`, { token: demo.customer.token });
    const status = (r.json.order as { status: string }).status;
    if (status !== "ORDER_STATUS_PROCESSING" && status !== "ORDER_STATUS_PENDING") break;
    await new Promise((res) => setTimeout(res, 50));
  }
  return { token: demo.customer.token, orderId: id };
}

/** Runs Lighthouse on the pages, both form factors; returns every page's scores. */
export async function measure(
  edge: string,
  pages: Array<{ name: string; path: string; cookie?: string }>,
): Promise<PageScores[]> {
  const outDir = join(STATE_DIR, "lighthouse");
  await Deno.mkdir(outDir, { recursive: true });
  const chrome = await chromeLauncher.launch({
    chromePath: await ensureChromium(),
    chromeFlags: ["--headless=new", ...CHROMIUM_ARGS],
  });
  const out: PageScores[] = [];
  try {
    for (const formFactor of ["mobile", "desktop"] as const) {
      for (const p of pages) {
        const flags: Flags = {
          port: chrome.port,
          output: ["json", "html"],
          logLevel: "error",
          onlyCategories: [...CATEGORIES],
          ...(p.cookie ? { extraHeaders: { Cookie: p.cookie } } : {}),
        };
        const r = await lighthouse(
          edge + p.path,
          flags,
          formFactor === "desktop" ? desktopConfig : undefined,
        );
        if (!r) throw new Error(`Lighthouse returned nothing for ${p.path}`);
        const [json, html] = r.report as string[];
        const base = join(outDir, `${p.name}-${formFactor}`);
        await Deno.writeTextFile(`${base}.json`, json!);
        await Deno.writeTextFile(`${base}.html`, html!);
        out.push(scoresOf(p.name, formFactor, r));
      }
    }
  } finally {
    chrome.kill();
  }
  return out;
}

function table(rows: PageScores[]): string {
  const head = "| page | form factor | performance | accessibility | best practices | weight " +
    "(cold cache) | requests | FCP | LCP | TTI | TBT | CLS |";
  const lines = [head, "|" + " --- |".repeat(12)];
  for (const r of rows) {
    lines.push(
      `| ${r.page} | ${r.formFactor} | ${r.scores.performance} | ${r.scores.accessibility} | ` +
        `${r.scores["best-practices"]} | ${
          (r.weightBytes / 1024).toFixed(1)
        } KiB | ${r.requests} | ` +
        `${r.fcpMs.toFixed(0)} ms | ${r.lcpMs.toFixed(0)} ms | ${r.ttiMs.toFixed(0)} ms | ` +
        `${r.tbtMs.toFixed(0)} ms | ${r.cls} |`,
    );
  }
  return lines.join("\n");
}

if (import.meta.main) {
  const i = Deno.args.indexOf("--stack");
  const kind = (i >= 0 ? Deno.args[i + 1] : "test") as "test" | "dev";
  if (kind !== "test" && kind !== "dev") {
    console.error("usage: deno task lighthouse [--stack test|dev]");
    Deno.exit(2);
  }
  const { edge, admin } = await target(kind);
  const { token, orderId } = await approvedOrder(edge, admin);
  const rows = await measure(edge, [
    { name: "catalogue", path: "/" },
    { name: "order", path: `/orders/${orderId}`, cookie: `stocklet_session=${token}` },
  ]);
  console.log(table(rows));
  console.error(`reports: ${join(STATE_DIR, "lighthouse")}/<page>-<form factor>.html`);
  const low = rows.filter((r) => CATEGORIES.some((c) => r.scores[c] < MIN_SCORE));
  if (low.length) {
    console.error(
      `below ${MIN_SCORE}: ${low.map((r) => `${r.page} (${r.formFactor})`).join(", ")}`,
    );
    Deno.exit(1);
  }
}
