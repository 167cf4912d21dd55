import assert from "node:assert/strict";
import { create, type DescMessage, toBinary } from "@bufbuild/protobuf";
import type { Tx } from "../db.ts";
import { Code, ServiceError } from "../errors.ts";
import { uuidv7 } from "../ids.ts";
import { events } from "../proto.ts";
import { on, type Reaction } from "../reaction.ts";
import {
  type Delivery,
  processBatch,
  processDelivery,
  type ProcessDeps,
  RetryLater,
} from "./process.ts";

const TOPIC = "order.state.created";

/** A fake database: an inbox set, and a transaction that rolls the inbox back on failure. */
function fakeDb() {
  const inbox = new Set<string>();
  let txs = 0;
  return {
    inbox,
    get txs() {
      return txs;
    },
    transaction<T>(_name: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
      txs++;
      const added: string[] = [];
      const tx = ((strings: TemplateStringsArray, ...values: unknown[]) => {
        assert.match(strings.join("?"), /insert into inbox/);
        if (strings.join("?").includes("unnest")) {
          const rows = [];
          for (const id of values[1] as string[]) {
            const key = `${values[0]}/${id}`;
            if (inbox.has(key)) continue;
            inbox.add(key);
            added.push(key);
            rows.push({ event_id: id });
          }
          return Promise.resolve(rows);
        }
        const key = `${values[0]}/${values[1]}`;
        if (inbox.has(key)) return Promise.resolve([]);
        inbox.add(key);
        added.push(key);
        return Promise.resolve([1]);
      }) as unknown as Tx;
      return fn(tx).catch((err) => {
        for (const k of added) inbox.delete(k);
        throw err;
      });
    },
  };
}

function delivery(overrides: Partial<Delivery> = {}): Delivery {
  const event = create(events.OrderCreatedEventSchema, { revision: 1, orderId: "o-1" });
  return {
    topic: TOPIC,
    partition: 0,
    offset: "7",
    key: "o-1",
    value: toBinary(events.OrderCreatedEventSchema, event),
    headers: { id: uuidv7(), type: events.OrderCreatedEventSchema.typeName },
    ...overrides,
  };
}

function deps(reaction: Reaction<DescMessage>, db = fakeDb()) {
  const dead: Array<{ d: Delivery; error: string; attempts: number }> = [];
  const sleeps: number[] = [];
  const d: ProcessDeps = {
    consumer: "order-service",
    reactions: new Map([[reaction.topic, reaction]]),
    transaction: (name, fn) => db.transaction(name, fn),
    deadLetter: (x, error, attempts) => {
      dead.push({ d: x, error, attempts });
      return Promise.resolve();
    },
    stopping: () => false,
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    maxAttempts: 3,
  };
  return { d, dead, sleeps, db };
}

Deno.test("processDelivery() applies an event once and recognises its redelivery", async () => {
  const seen: string[] = [];
  const { d, db } = deps(on(TOPIC, events.OrderCreatedEventSchema, (e) => {
    seen.push(e.orderId);
    return Promise.resolve();
  }));
  const msg = delivery();
  assert.deepEqual(await processDelivery(msg, d), { kind: "applied" });
  assert.deepEqual(await processDelivery(msg, d), { kind: "duplicate" });
  assert.deepEqual(seen, ["o-1"]);
  assert.equal(db.inbox.size, 1);
});

Deno.test("processDelivery() dead-letters an undecodable payload without calling the handler", async () => {
  let called = false;
  const { d, dead } = deps(on(TOPIC, events.OrderCreatedEventSchema, () => {
    called = true;
    return Promise.resolve();
  }));
  const outcome = await processDelivery(
    delivery({ value: new Uint8Array([0xff, 0xff, 0xff]) }),
    d,
  );
  assert.equal(outcome.kind, "dead-lettered");
  assert.equal(called, false);
  assert.equal(dead.length, 1);
  assert.match(dead[0]!.error, /cannot decode stocklet\.events\.v1\.OrderCreatedEvent/);
});

Deno.test("processDelivery() dead-letters a message without a valid id header", async () => {
  const { d, dead } = deps(on(TOPIC, events.OrderCreatedEventSchema, () => Promise.resolve()));
  const outcome = await processDelivery(delivery({ headers: { id: "not-a-uuid" } }), d);
  assert.equal(outcome.kind, "dead-lettered");
  assert.match(dead[0]!.error, /id/);
});

Deno.test("processDelivery() retries a failing handler and succeeds once, with backoff", async () => {
  let calls = 0;
  const { d, sleeps, db } = deps(on(TOPIC, events.OrderCreatedEventSchema, () => {
    calls++;
    if (calls < 3) throw new Error("flaky");
    return Promise.resolve();
  }));
  d.maxAttempts = 5;
  assert.deepEqual(await processDelivery(delivery(), d), { kind: "applied" });
  assert.equal(calls, 3);
  assert.deepEqual(sleeps, [50, 100]);
  assert.equal(db.inbox.size, 1, "the failed attempts rolled their inbox rows back");
});

Deno.test("processDelivery() dead-letters after maxAttempts non-transient failures", async () => {
  let calls = 0;
  const { d, dead } = deps(on(TOPIC, events.OrderCreatedEventSchema, () => {
    calls++;
    throw new TypeError("bug");
  }));
  const outcome = await processDelivery(delivery(), d);
  assert.deepEqual(outcome, { kind: "dead-lettered", error: "TypeError: bug", attempts: 3 });
  assert.equal(calls, 3);
  assert.equal(dead.length, 1);
});

Deno.test("processDelivery() retries transient failures without limit, never dead-letters them", async () => {
  let calls = 0;
  const { d, dead, sleeps } = deps(on(TOPIC, events.OrderCreatedEventSchema, () => {
    calls++;
    if (calls === 1) throw new RetryLater("wait");
    if (calls === 2) throw new ServiceError(Code.UNAVAILABLE, "down");
    if (calls < 10) throw Object.assign(new Error("refused"), { code: "ECONNREFUSED" });
    return Promise.resolve();
  }));
  d.maxBackoffMs = 400;
  assert.deepEqual(await processDelivery(delivery(), d), { kind: "applied" });
  assert.equal(calls, 10);
  assert.equal(dead.length, 0);
  assert.equal(Math.max(...sleeps), 400, "backoff is capped");
});

Deno.test("processDelivery() stops retrying when shutdown begins", async () => {
  let stopping = false;
  const { d } = deps(on(TOPIC, events.OrderCreatedEventSchema, () => {
    stopping = true;
    throw new RetryLater("db down");
  }));
  d.stopping = () => stopping;
  assert.deepEqual(await processDelivery(delivery(), d), { kind: "aborted" });
});

Deno.test("processDelivery() skips filtered events without a transaction", async () => {
  const { d, db } = deps(
    on(TOPIC, events.OrderCreatedEventSchema, () => Promise.reject(new Error("no")), {
      filter: (e) => e.orderId !== "o-1",
    }),
  );
  assert.deepEqual(await processDelivery(delivery(), d), { kind: "filtered" });
  assert.equal(db.txs, 0);
});

Deno.test("on() refuses a schema that its topic does not carry", () => {
  assert.throws(
    () => on(TOPIC, events.OrderPendingEventSchema, () => Promise.resolve()),
    /order\.state\.created carries stocklet\.events\.v1\.OrderCreatedEvent/,
  );
});

function order(id: string, eventId = uuidv7()): Delivery {
  return delivery({
    key: id,
    value: toBinary(
      events.OrderCreatedEventSchema,
      create(events.OrderCreatedEventSchema, { orderId: id }),
    ),
    headers: { id: eventId },
  });
}

Deno.test("processBatch() applies a batch in one transaction, in order, skipping duplicates", async () => {
  const seen: string[] = [];
  const { d, db } = deps(on(TOPIC, events.OrderCreatedEventSchema, (e) => {
    seen.push(e.orderId);
    return Promise.resolve();
  }));
  const first = order("o-1");
  const out = await processBatch([first, order("o-2"), { ...first }, order("o-3")], d);
  assert.deepEqual(out.map((o) => o.kind), ["applied", "applied", "duplicate", "applied"]);
  assert.deepEqual(seen, ["o-1", "o-2", "o-3"]);
  assert.equal(db.txs, 1, "one transaction for the whole batch");
  const again = await processBatch([order("o-4"), { ...first }], d);
  assert.deepEqual(again.map((o) => o.kind), ["applied", "duplicate"]);
});

Deno.test("processBatch() falls back to one-by-one when one event fails: the rest apply once", async () => {
  const seen: string[] = [];
  const { d, dead } = deps(on(TOPIC, events.OrderCreatedEventSchema, (e) => {
    if (e.orderId === "bad") throw new TypeError("bug");
    seen.push(e.orderId);
    return Promise.resolve();
  }));
  const out = await processBatch([order("a"), order("bad"), order("c")], d);
  assert.deepEqual(out.map((o) => o.kind), ["applied", "dead-lettered", "applied"]);
  // The batch attempt ran a and then failed on bad: rolled back, so a applies exactly once more.
  assert.deepEqual(seen.filter((x) => x === "a").length, 2);
  assert.equal(dead.length, 1);
});

Deno.test("processBatch() dead-letters poison without holding up the batch", async () => {
  const { d, dead } = deps(on(TOPIC, events.OrderCreatedEventSchema, () => Promise.resolve()));
  const out = await processBatch([
    order("a"),
    delivery({ value: new Uint8Array([0xff]) }),
    order("b"),
  ], d);
  assert.deepEqual(out.map((o) => o.kind), ["applied", "dead-lettered", "applied"]);
  assert.equal(dead.length, 1);
});
