/**
 * The storefront and the admin console in real Chromium, through the test stack's edge: the
 * journeys of issue 16. Each one fails on any console error, uncaught exception, failed request
 * or error answer on any of its pages, and leaves a screenshot of its last page under
 * `.stocklet/screenshots/` (the README's pictures are copies of these).
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { appPid } from "@stocklet/scripts/stack/apps";
import { unique } from "@stocklet/testing/stack";
import { card, cardNamed, closeBrowser, journey, logIn, logInAdmin, product } from "./support.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** Cents as the pages show them. */
function money(cents: number): string {
  return `${Math.floor(cents / 100).toLocaleString("en-US")}.${
    String(cents % 100).padStart(2, "0")
  }`;
}

/** Holds the payment service (SIGSTOP) while fn runs, so a picture can catch the saga mid-way. */
async function withPaymentHeld<T>(fn: () => Promise<T>): Promise<T> {
  const pid = appPid("test", "payment");
  if (pid === undefined) return await fn();
  Deno.kill(pid, "SIGSTOP");
  try {
    return await fn();
  } finally {
    Deno.kill(pid, "SIGCONT");
  }
}

/** The order page's status badge. */
function status(page: Page) {
  return page.locator("#order-status");
}

Deno.test(
  "browser: a visitor registers, is credited by an admin, buys two items and watches the order go to Approved live",
  opts,
  async () => {
    await journey("journey-1-order-approved", async (j) => {
      const teapot = await product(j.api, "Stoneware teapot", "1.2 l, keeps tea hot", 3450, 10);
      const cups = await product(j.api, "Tea cups", "Porcelain, set of four", 2400, 10);
      const first = "Ada";
      const email = `ada-${unique()}@example.com`;

      // The visitor registers from the catalogue.
      const shopper = await j.person();
      await shopper.goto("/");
      await shopper.getByRole("banner").getByRole("link", { name: "Register" }).click();
      await shopper.getByLabel("First name").fill(first);
      await shopper.getByLabel("Last name").fill("Lovelace");
      await shopper.getByLabel("Email").fill(email);
      await shopper.getByLabel("Password").fill("correct horse battery");
      await shopper.getByRole("button", { name: "Register" }).click();
      await shopper.getByRole("button", { name: "Log out" }).waitFor();
      await shopper.getByRole("banner").getByText(first).waitFor();

      // An admin, in a second browser, finds the customer and credits 100.00.
      const admin = await j.person();
      await logInAdmin(admin);
      await admin.getByRole("link", { name: "Admin" }).click();
      await admin.getByRole("link", { name: "Customers and balances" }).click();
      const row = admin.locator(`tr[data-email="${email}"]`);
      await admin.getByLabel("Find a customer").fill(email);
      for (let i = 0;; i++) {
        // The customer and their balance appear as their events arrive: search until they have.
        await admin.getByRole("button", { name: "Search" }).click();
        await admin.waitForLoadState();
        if (await row.count() && (await row.locator("[data-balance]").textContent()) === "0.00") {
          break;
        }
        if (i === 100) throw new Error(`${email} never showed with a balance`);
        await admin.waitForTimeout(100);
      }
      await row.getByLabel(`Amount to credit to ${first} Lovelace`).fill("100.00");
      await row.getByRole("button", { name: "Credit" }).click();
      await row.locator("[data-balance]").getByText("100.00").waitFor();

      // The shopper adds two items to the cart and checks out.
      await shopper.goto("/");
      await card(shopper, teapot.id).getByRole("button", { name: "Add to cart" }).click();
      await card(shopper, cups.id).getByRole("button", { name: "Add to cart" }).click();
      await shopper.locator("[data-cart-badge]").getByText("2").waitFor();
      await shopper.reload(); // the cart survives a reload
      await shopper.getByRole("link", { name: "Cart" }).click();
      const total = 3450 + 2400;
      await shopper.locator("[data-cart-total]").getByText(money(total)).waitFor();
      await shopper.getByText("Your balance: 100.00").waitFor();

      // Payment is held for a moment, so the page is seen mid-saga.
      await withPaymentHeld(async () => {
        await shopper.getByRole("button", { name: "Place order" }).click();
        await shopper.waitForURL(/\/orders\/[0-9a-f-]{36}$/);
        await shopper.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 1));
        await shopper.getByText(/Allocated shipment/).waitFor();
        await shopper.getByText("Waiting for payment to take the money…").waitFor();
        assert.equal(await status(shopper).textContent(), "Pending");
        await j.shot(shopper, "order-mid-saga");
      });

      // Payment resumes: the page turns Approved by itself.
      await status(shopper).getByText("Approved").waitFor();
      await shopper.getByText(`Took payment of ${money(total)}`).waitFor();
      await shopper.getByText("Order approved").waitFor();
      assert.equal(
        await shopper.evaluate(() => (globalThis as unknown as { marker?: number }).marker),
        1,
        "the page was never reloaded",
      );
      assert.ok(Number(await shopper.locator("#saga").getAttribute("data-updates")) >= 1);
      await j.shot(shopper, "order-approved");

      // The admin sees it among all orders, filtered by the customer.
      await admin.getByRole("link", { name: "All orders" }).click();
      await admin.getByLabel("Customer").fill(email);
      await admin.getByLabel("Status").selectOption({ label: "Approved" });
      await admin.getByRole("button", { name: "Filter" }).click();
      await admin.getByRole("cell", { name: email }).waitFor();
      assert.equal(await admin.locator("table.orders tbody tr").count(), 1);

      // The balance dropped by exactly the total.
      await shopper.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Balance" })
        .click();
      await shopper.locator("[data-balance]").getByText(money(10_000 - total)).waitFor();
      await shopper.getByRole("cell", { name: `−${money(total)}` }).waitFor();
      await shopper.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Orders" })
        .click();
      await shopper.getByRole("cell", { name: "Approved" }).waitFor();
    });
  },
);

Deno.test(
  "browser: purchases that fail show Rejected with the reason and what was undone",
  opts,
  async () => {
    await journey("journey-2-order-rejected", async (j) => {
      const kettle = await product(j.api, "Gooseneck kettle", "0.8 l", 5900, 1);
      const towel = await product(j.api, "Linen tea towel", "50 × 70 cm", 899, 5);
      const c = await j.api.customer();
      await j.api.credit(c.id, 1000);
      const shopper = await j.person();
      await logIn(shopper, c.email, c.password);

      // The last kettle is in the cart, then someone else buys it.
      await shopper.goto(`/products/${kettle.id}`);
      await shopper.getByText("Only 1 left").waitFor();
      await shopper.getByRole("button", { name: "Add to cart" }).click();
      await shopper.locator("[data-cart-badge]").getByText("1").waitFor();
      const other = await j.api.customer();
      await j.api.credit(other.id, 10_000);
      const theirs = await j.api.settled(other, (await j.api.place(other, { [kettle.id]: 1 })).id);
      assert.equal(theirs.status, "ORDER_STATUS_APPROVED");

      await shopper.getByRole("link", { name: "Cart" }).click();
      await shopper.getByText("Out of stock").waitFor();
      await shopper.getByRole("button", { name: "Place order" }).click();
      await shopper.waitForURL(/\/orders\//);
      await status(shopper).getByText("Rejected").waitFor();
      await shopper.locator(".why").getByText(`Not enough stock of ${kettle.name}`).waitFor();
      await shopper.getByText("Nothing to undo: no stock was reserved").waitFor();
      await j.shot(shopper, "order-rejected-stock");

      // A towel costs more than the 10.00 left: stock and shipment are taken, then given back.
      await shopper.goto(`/products/${towel.id}`);
      await shopper.getByLabel("Quantity").fill("2");
      await shopper.getByRole("button", { name: "Add to cart" }).click();
      await shopper.getByRole("link", { name: "Cart" }).click();
      // The cart was emptied by the first order: only the towels are in it.
      await shopper.getByText("short: the payment would fail").waitFor();
      await shopper.getByRole("button", { name: "Place order" }).click();
      await shopper.waitForURL(/\/orders\//);
      await status(shopper).getByText("Rejected").waitFor();
      await shopper.locator(".why").getByText(/Payment of 17\.98 failed: insufficient balance/)
        .waitFor();
      await shopper.getByText("Stock reserved: returned ✓").waitFor();
      await shopper.getByText("Shipment allocated: released ✓").waitFor();
      const undo = shopper.locator(".step-compensation");
      assert.equal(await undo.count(), 2, "two compensations in the timeline");
      assert.equal(await j.api.stock(towel.id), 5, "the stock is back");
      assert.equal(await j.api.balance(c), 1000n, "the balance is untouched");
    });
  },
);

Deno.test(
  "browser: an admin creates a product and a shopper finds it, with the keyboard",
  opts,
  async () => {
    await journey("journey-3-admin-product", async (j) => {
      const name = `Honey jar ${unique().slice(-4)}`;
      const admin = await j.person();
      await logInAdmin(admin);
      await admin.goto("/admin/products");
      await admin.getByLabel("Name", { exact: true }).fill(name);
      await admin.getByLabel("Description", { exact: true }).fill("Wildflower, 350 g");
      await admin.getByLabel("Price", { exact: true }).fill("7.50");
      await admin.getByRole("button", { name: "Create product" }).click();
      const row = admin.locator("tr", { has: admin.getByRole("rowheader", { name }) });
      await row.waitFor();
      // The warehouse opens the product's stock when it hears of it: add units once it has.
      for (let i = 0; (await row.locator("[data-stock]").textContent())?.trim() !== "0"; i++) {
        if (i === 100) throw new Error(`${name} never got a stock row`);
        await admin.waitForTimeout(100);
        await admin.reload();
      }
      await row.getByLabel(`Units to add to ${name}`).fill("12");
      await row.getByRole("button", { name: "Add stock" }).click();
      await row.locator("[data-stock]").getByText("12").waitFor();
      await row.getByLabel(`Price of ${name}`).fill("6.75");
      await row.getByRole("button", { name: "Save price" }).click();
      await admin.getByText(`Price of ${name} saved.`).waitFor();

      // A visitor finds it in the catalogue, opens it and adds two with the keyboard only.
      const visitor = await j.person();
      await visitor.goto("/");
      const item = cardNamed(visitor, name);
      await item.getByText("6.75").waitFor();
      await item.getByText("In stock").waitFor();
      await j.shot(visitor, "catalogue", { fullPage: false });
      await item.getByRole("link", { name }).focus();
      await visitor.keyboard.press("Enter");
      await visitor.waitForURL(/\/products\//);
      await visitor.getByRole("heading", { name, level: 1 }).waitFor();
      await visitor.getByLabel("Quantity").focus();
      await visitor.keyboard.press("Control+A");
      await visitor.keyboard.type("2");
      await visitor.keyboard.press("Tab");
      assert.equal(
        await visitor.evaluate(() =>
          (globalThis as unknown as { document: { activeElement: { textContent: string } } })
            .document.activeElement.textContent
        ),
        "Add to cart",
        "Tab moves from the quantity to Add to cart",
      );
      await visitor.keyboard.press("Enter");
      await visitor.locator("[data-cart-badge]").getByText("2").waitFor();
      await visitor.getByRole("status").getByText(`Added 2 × ${name} to your cart.`).waitFor();

      // The admin's dead-letter page says what is there.
      await admin.getByRole("link", { name: "Dead letters" }).click();
      await admin.getByRole("heading", { name: "Dead letters", level: 1 }).waitFor();
      await admin.getByRole("rowheader", { name: "order-service.dlq" }).waitFor();
      await visitor.getByRole("link", { name: "Cart" }).click();
      await visitor.getByRole("row", { name: new RegExp(name) }).waitFor();
    });
  },
);

Deno.test("browser: close Chromium", opts, async () => {
  await closeBrowser();
});
