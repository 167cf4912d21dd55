import assert from "node:assert/strict";
import { AT_CAPACITY_HEADER } from "@stocklet/shared/errors";
import { shedRoutes } from "./shed.ts";

const ROUTE = "OrderService.PlaceOrder";

function atCapacity(): Response {
  return Response.json({ code: 8, message: "too many orders in progress (500)" }, {
    status: 429,
    headers: { "retry-after": "1", [AT_CAPACITY_HEADER]: "1" },
  });
}

function clock() {
  let t = 1_000;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

Deno.test("shed: after an at-capacity answer every call is refused for the window, then at most the cap are forwarded at once until capMs", async () => {
  const c = clock();
  const shed = shedRoutes({ windowMs: 100, capConcurrency: 2, capMs: 1000, now: c.now });
  assert.equal(shed.refusal(ROUTE), undefined, "nothing known: forward");
  const first = shed.forwarding(ROUTE);
  const second = shed.forwarding(ROUTE);
  const third = shed.forwarding(ROUTE);
  assert.equal(shed.refusal(ROUTE), undefined, "no cap before the service said it is at capacity");

  await shed.learn(ROUTE, atCapacity());
  third();
  const refused = shed.refusal(ROUTE);
  assert.equal(refused?.status, 429);
  assert.equal(refused?.headers.get("retry-after"), "1");
  assert.equal(refused?.headers.get(AT_CAPACITY_HEADER), "1");
  assert.match(await refused!.text(), /too many orders in progress/, "in the service's own words");

  c.advance(150); // past the window, within the cap: two in progress, the cap is two
  assert.equal(shed.refusal(ROUTE)?.status, 429, "at the cap: refused");
  first();
  assert.equal(shed.refusal(ROUTE), undefined, "one place free: forwarded");
  const fourth = shed.forwarding(ROUTE);
  assert.equal(shed.refusal(ROUTE)?.status, 429, "at the cap again");
  first(); // a second call of the same done changes nothing
  assert.equal(shed.refusal(ROUTE)?.status, 429);

  c.advance(1000); // past capMs: no cap however many are in progress
  assert.equal(shed.refusal(ROUTE), undefined);
  second();
  fourth();
});

Deno.test("shed: a 429 about one caller (no at-capacity mark) neither opens a window nor caps; other routes are untouched", async () => {
  const c = clock();
  const shed = shedRoutes({ windowMs: 100, capConcurrency: 1, now: c.now });
  const inProgress = shed.forwarding(ROUTE);
  await shed.learn(
    ROUTE,
    Response.json({ message: "too many attempts" }, {
      status: 429,
      headers: { "retry-after": "30" },
    }),
  );
  assert.equal(shed.refusal(ROUTE), undefined);
  await shed.learn(ROUTE, atCapacity());
  assert.equal(shed.refusal("OrderService.ViewOrder"), undefined);
  c.advance(150);
  assert.equal(shed.refusal(ROUTE)?.status, 429, "capped at one, one in progress");
  inProgress();
  assert.equal(shed.refusal(ROUTE), undefined);
});

Deno.test("shed: capConcurrency 0 keeps only the window", async () => {
  const c = clock();
  const shed = shedRoutes({ windowMs: 100, capConcurrency: 0, now: c.now });
  for (let i = 0; i < 100; i++) shed.forwarding(ROUTE);
  await shed.learn(ROUTE, atCapacity());
  assert.equal(shed.refusal(ROUTE)?.status, 429);
  c.advance(150);
  assert.equal(shed.refusal(ROUTE), undefined);
});
