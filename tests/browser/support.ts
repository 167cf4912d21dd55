/**
 * Journeys in a real browser: Debian's Chromium (installed by the test command when missing)
 * driven by playwright-core, headless, against the test stack's edge. Every page of a journey is
 * watched: a console error, an uncaught exception, a failed request or an answer of 400 or more
 * fails the journey. The journey's last page is saved as a screenshot under the state folder
 * (`.stocklet/screenshots/<name>.png`).
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type Browser,
  type BrowserContext,
  chromium,
  type Page,
  type Request,
  type Response,
} from "playwright-core";
import { CHROMIUM_ARGS, ensureChromium } from "@stocklet/scripts/browser/chromium";
import { STATE_DIR } from "@stocklet/scripts/paths";
import { TEST_SETTINGS } from "@stocklet/scripts/stack";
import { type Api, api } from "@stocklet/testing/stack";

/** Where journeys leave their screenshots. */
export const SCREENSHOTS_DIR: string = join(STATE_DIR, "screenshots");

let browser: Promise<Browser> | undefined;

/** The shared headless Chromium (launched once per test file). */
export function launch(): Promise<Browser> {
  return browser ??= (async () =>
    await chromium.launch({
      executablePath: await ensureChromium(),
      headless: true,
      args: [...CHROMIUM_ARGS],
    }))();
}

/** Closes the shared browser. */
export async function closeBrowser(): Promise<void> {
  const b = browser;
  browser = undefined;
  await (await b)?.close();
}

/** A journey's browser contexts (one person each) and what went wrong on their pages. */
export interface Journey {
  /** The stack's public door. */
  base: string;
  api: Api;
  /** A new person: a fresh context (own cookies) and a page, watched. */
  person(): Promise<Page>;
  /** Everything that went wrong so far, one line each. */
  problems: string[];
  /** Saves a named screenshot of a page (besides the journey's last page); whole page by default. */
  shot(page: Page, name: string, opts?: { fullPage?: boolean }): Promise<string>;
}

/** Requests cancelled by the page itself (a navigation, or a live stream it closed) are not failures. */
function cancelledByPage(r: Request): boolean {
  return r.failure()?.errorText === "net::ERR_ABORTED";
}

function watch(page: Page, problems: string[], who: string): void {
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`${who}: console error on ${page.url()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`${who}: uncaught ${e.name}: ${e.message}`));
  page.on("requestfailed", (r) => {
    if (!cancelledByPage(r)) {
      problems.push(`${who}: ${r.method()} ${r.url()} failed: ${r.failure()?.errorText}`);
    }
  });
  page.on("response", (r: Response) => {
    if (r.status() >= 400) {
      problems.push(`${who}: ${r.request().method()} ${r.url()} answered ${r.status()}`);
    }
  });
}

/**
 * Runs a journey: people are fresh browser contexts; at the end the last page used is saved as
 * `<name>.png` and the journey fails if anything went wrong on any page.
 */
export async function journey(name: string, fn: (j: Journey) => Promise<void>): Promise<void> {
  const b = await launch();
  const a = await api();
  const base = a.stack.edgeUrl;
  if (!base) throw new Error("the browser journeys need the edge");
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];
  let last: Page | undefined;
  await Deno.mkdir(SCREENSHOTS_DIR, { recursive: true });
  const shot = async (page: Page, file: string, opts: { fullPage?: boolean } = {}) => {
    const path = join(SCREENSHOTS_DIR, `${file}.png`);
    await page.screenshot({ path, fullPage: opts.fullPage ?? true });
    return path;
  };
  const j: Journey = {
    base,
    api: a,
    problems,
    shot,
    async person() {
      const context = await b.newContext({
        baseURL: base,
        viewport: { width: 1200, height: 900 },
        deviceScaleFactor: 1,
      });
      contexts.push(context);
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      watch(page, problems, `person ${contexts.length}`);
      page.on("load", () => (last = page));
      return page;
    },
  };
  try {
    await fn(j);
  } finally {
    if (last && !last.isClosed()) await shot(last, name).catch(() => {});
    for (const c of contexts) await c.close().catch(() => {});
  }
  assert.deepEqual(problems, [], `${name}: every page loads and runs without errors`);
}

/** Logs a person in through the log-in page. */
export async function logIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("button", { name: "Log out" }).waitFor();
}

/** Logs the admin in. */
export function logInAdmin(page: Page): Promise<void> {
  return logIn(page, TEST_SETTINGS.adminEmail, TEST_SETTINGS.adminPassword);
}

/**
 * A product made by the admin through the API, with stock. Its name is as given (the pictures
 * show it): find it by id.
 */
export async function product(
  a: Api,
  name: string,
  description: string,
  priceCents: number,
  stock: number,
): Promise<{ id: string; name: string }> {
  const admin = await a.adminToken();
  const full = name;
  const r = await a.ok<{ product: { id: string } }>("POST", "/v1/product", {
    token: admin,
    body: { name: full, description, price_cents: String(priceCents) },
  });
  const id = r.product.id;
  await a.eventually(async () => {
    const s = await a.call("POST", `/v1/warehouse/product/${id}/stock`, {
      token: admin,
      body: { quantity: stock },
    });
    return s.status === 200;
  }, `stock for ${full}`);
  return { id, name: full };
}

/** A product's card in the catalogue, by the product's id. */
export function card(page: Page, id: string) {
  return page.locator(`li.card#p-${id}`);
}

/** A product's card in the catalogue, by its (unique) name. */
export function cardNamed(page: Page, name: string) {
  return page.getByRole("listitem").filter({ has: page.getByRole("heading", { name }) });
}
