import assert from "node:assert/strict";
import { AT_CAPACITY_HEADER, HEADROOM_HEADER } from "@stocklet/shared/errors";
import { shedRoutes } from "./shed.ts";

const ROUTE = "OrderService.PlaceOrder";

function atCapacity(): Response {
  return Response.json({ code: 8, message: "too many orders in progress (500)" }, {
    status: 429,
    headers: { "retry-after": "1", [AT_CAPACITY_HEADER]: "1" },
  });
}

/** An at-capacity answer that also tells the room left (none), as the order service's does. */
function atCapacityTelling(): Response {
  const res = atCapacity();
  res.headers.set(HEADROOM_HEADER, "0");
  return res;
}

/** An admitted call's answer telling the room left. */
function admitted(room: number): Response {
  return Response.json({ order: {} }, { headers: { [HEADROOM_HEADER]: String(room) } });
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

Deno.test("shed: a service that tells its room is budgeted after the window: one call asks, its answer's room is spent, then one asks again", async () => {
  const c = clock();
  const shed = shedRoutes({ windowMs: 100, capConcurrency: 32, capMs: 1000, now: c.now });
  await shed.learn(ROUTE, admitted(0));
  assert.equal(
    shed.refusal(ROUTE),
    undefined,
    "room told before any at-capacity answer: no budget",
  );
  await shed.learn(ROUTE, atCapacityTelling());
  assert.equal(shed.refusal(ROUTE)?.status, 429, "within the window");

  c.advance(150);
  assert.equal(shed.refusal(ROUTE), undefined, "no room left and nothing in progress: one asks");
  const asking = shed.forwarding(ROUTE);
  assert.equal(shed.refusal(ROUTE)?.status, 429, "while it asks, no room: refused here");
  await shed.learn(ROUTE, admitted(2));
  asking();
  assert.equal(shed.refusal(ROUTE), undefined, "room for two: the first forwarded");
  const first = shed.forwarding(ROUTE);
  assert.equal(shed.refusal(ROUTE), undefined, "room for two: the second forwarded");
  const second = shed.forwarding(ROUTE);
  assert.equal(shed.refusal(ROUTE)?.status, 429, "room spent, calls in progress: refused");
  // The first of the two answers: one room left as the service counted, but the second call,
  // still on its way, may take it.
  await shed.learn(ROUTE, admitted(1));
  first();
  assert.equal(shed.refusal(ROUTE)?.status, 429);
  await shed.learn(ROUTE, admitted(5));
  second();
  for (let i = 0; i < 5; i++) {
    assert.equal(shed.refusal(ROUTE), undefined, `room ${i + 1} of 5`);
    shed.forwarding(ROUTE);
  }
  assert.equal(shed.refusal(ROUTE)?.status, 429, "five forwarded, none answered: refused");
});

Deno.test("shed: an answer telling less room than the cap keeps the route budgeted past capMs; more room ends it at capMs", async () => {
  const c = clock();
  const shed = shedRoutes({ windowMs: 100, capMs: 1000, now: c.now });
  await shed.learn(ROUTE, atCapacityTelling());
  c.advance(900);
  const first = shed.forwarding(ROUTE);
  await shed.learn(ROUTE, admitted(3)); // admitted, less room left than the cap (32)
  first();
  c.advance(900); // 1,800 ms after the at-capacity answer, 900 after the word of little room
  const spending = Array.from({ length: 3 }, () => shed.forwarding(ROUTE));
  assert.equal(shed.refusal(ROUTE)?.status, 429, "still budgeted: its three rooms are spent");
  await shed.learn(ROUTE, admitted(40));
  for (const done of spending) done();
  c.advance(1001);
  const inProgress = Array.from({ length: 50 }, () => shed.forwarding(ROUTE));
  assert.equal(
    shed.refusal(ROUTE),
    undefined,
    "capMs after the last word of little room: uncapped",
  );
  for (const done of inProgress) done();
});
