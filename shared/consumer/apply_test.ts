import assert from "node:assert/strict";
import { create, type DescMessage, toBinary } from "@bufbuild/protobuf";
import type { Tx } from "../db.ts";
import { Code, ServiceError } from "../errors.ts";
import { uuidv7 } from "../ids.ts";
import { events } from "../proto.ts";
import { type ApplyDeps, applyRound } from "./apply.ts";
import type { Delivery } from "./delivery.ts";
import { on, type Reaction } from "./reaction.ts";
import { RetryLater } from "./retry.ts";

const TOPIC = "order.state.created";

/**
 * A fake database: an inbox set, and a transaction that rolls the inbox back on failure, and with
 * it what the reactions wrote to `journal` (their writes, as a real transaction would).
 */
function fakeDb(journal: unknown[] = []) {
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
      const written = journal.length;
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
        journal.length = written;
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
  const d: ApplyDeps = {
    consumer: "order-service",
    reactions: new Map([[reaction.topic, reaction]]),
    transaction: (name, fn) => db.transaction(name, fn),
    deadLetter: (x, error, attempts) => {
      dead.push({ d: x, error, attempts });
      return Promise.resolve();
    },
    retry: { maxAttempts: 3 },
    hooks: {
      stopping: () => false,
      sleep: (ms) => {
        sleeps.push(ms);
        return Promise.resolve();
      },
    },
  };
  return { d, dead, sleeps, db };
}

/** Applying with a reaction that records each order it applies, in writes a rollback undoes. */
function recording() {
  const seen: string[] = [];
  const reaction = on(TOPIC, events.OrderCreatedEventSchema, (e) => {
    seen.push(e.orderId);
    return Promise.resolve();
  });
  return { seen, ...deps(reaction, fakeDb(seen)) };
}

/** Applies one delivery as a round of its own. */
async function applyOne(x: Delivery, d: ApplyDeps) {
  const [outcome] = await applyRound([x], d);
  return outcome!;
}

Deno.test("applyRound() applies an event once and recognises its redelivery", async () => {
  const { seen, d, db } = recording();
  const msg = delivery();
  assert.deepEqual(await applyOne(msg, d), { kind: "applied" });
  assert.deepEqual(await applyOne(msg, d), { kind: "duplicate" });
  assert.deepEqual(seen, ["o-1"]);
  assert.equal(db.inbox.size, 1);
});

Deno.test("applyRound() dead-letters an undecodable payload without calling the handler", async () => {
  let called = false;
  const { d, dead } = deps(on(TOPIC, events.OrderCreatedEventSchema, () => {
    called = true;
    return Promise.resolve();
  }));
  const outcome = await applyOne(
    delivery({ value: new Uint8Array([0xff, 0xff, 0xff]) }),
    d,
  );
  assert.equal(outcome.kind, "dead-lettered");
  assert.equal(called, false);
  assert.equal(dead.length, 1);
  assert.match(dead[0]!.error, /cannot decode stocklet\.events\.v1\.OrderCreatedEvent/);
});

Deno.test("applyRound() dead-letters a message without a valid id header", async () => {
  const { d, dead } = deps(on(TOPIC, events.OrderCreatedEventSchema, () => Promise.resolve()));
  const outcome = await applyOne(delivery({ headers: { id: "not-a-uuid" } }), d);
  assert.equal(outcome.kind, "dead-lettered");
  assert.match(dead[0]!.error, /id/);
});

Deno.test("applyRound() retries a failing handler and succeeds once, with backoff", async () => {
  let calls = 0;
  const { d, sleeps, db } = deps(on(TOPIC, events.OrderCreatedEventSchema, () => {
    calls++;
    if (calls < 3) throw new Error("flaky");
    return Promise.resolve();
  }));
  d.retry = { maxAttempts: 5 };
  assert.deepEqual(await applyOne(delivery(), d), { kind: "applied" });
  assert.equal(calls, 3);
  assert.deepEqual(sleeps, [50, 100]);
  assert.equal(db.inbox.size, 1, "the failed attempts rolled their inbox rows back");
});

Deno.test("applyRound() dead-letters after maxAttempts non-transient failures", async () => {
  let calls = 0;
  const { d, dead } = deps(on(TOPIC, events.OrderCreatedEventSchema, () => {
    calls++;
    throw new TypeError("bug");
  }));
  const outcome = await applyOne(delivery(), d);
  assert.deepEqual(outcome, { kind: "dead-lettered", error: "TypeError: bug", attempts: 3 });
  assert.equal(calls, 3);
  assert.equal(dead.length, 1);
});

Deno.test("applyRound() retries transient failures without limit, never dead-letters them", async () => {
  let calls = 0;
  const { d, dead, sleeps } = deps(on(TOPIC, events.OrderCreatedEventSchema, () => {
    calls++;
    if (calls === 1) throw new RetryLater("wait");
    if (calls === 2) throw new ServiceError(Code.UNAVAILABLE, "down");
    if (calls < 10) throw Object.assign(new Error("refused"), { code: "ECONNREFUSED" });
    return Promise.resolve();
  }));
  d.retry = { ...d.retry, maxBackoffMs: 400 };
  assert.deepEqual(await applyOne(delivery(), d), { kind: "applied" });
  assert.equal(calls, 10);
  assert.equal(dead.length, 0);
  assert.equal(Math.max(...sleeps), 400, "backoff is capped");
});

Deno.test("applyRound() stops retrying when shutdown begins", async () => {
  let stopping = false;
  const { d } = deps(on(TOPIC, events.OrderCreatedEventSchema, () => {
    stopping = true;
    throw new RetryLater("db down");
  }));
  d.hooks.stopping = () => stopping;
  assert.deepEqual(await applyOne(delivery(), d), { kind: "aborted" });
});

Deno.test("applyRound() skips filtered events without a transaction", async () => {
  const { d, db } = deps(
    on(TOPIC, events.OrderCreatedEventSchema, () => Promise.reject(new Error("no")), {
      filter: (e) => e.orderId !== "o-1",
    }),
  );
  assert.deepEqual(await applyOne(delivery(), d), { kind: "filtered" });
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

Deno.test("applyRound() applies a round in one transaction, in order, skipping duplicates", async () => {
  const seen: string[] = [];
  const { d, db } = deps(on(TOPIC, events.OrderCreatedEventSchema, (e) => {
    seen.push(e.orderId);
    return Promise.resolve();
  }));
  const first = order("o-1");
  const out = await applyRound([first, order("o-2"), { ...first }, order("o-3")], d);
  assert.deepEqual(out.map((o) => o.kind), ["applied", "applied", "duplicate", "applied"]);
  assert.deepEqual(seen, ["o-1", "o-2", "o-3"]);
  assert.equal(db.txs, 1, "one transaction for the whole round");
  const again = await applyRound([order("o-4"), { ...first }], d);
  assert.deepEqual(again.map((o) => o.kind), ["applied", "duplicate"]);
});

Deno.test("applyRound() falls back to one-by-one when one event fails: the rest apply once", async () => {
  const seen: string[] = [];
  const { d, dead } = deps(on(TOPIC, events.OrderCreatedEventSchema, (e) => {
    if (e.orderId === "bad") throw new TypeError("bug");
    seen.push(e.orderId);
    return Promise.resolve();
  }));
  const out = await applyRound([order("a"), order("bad"), order("c")], d);
  assert.deepEqual(out.map((o) => o.kind), ["applied", "dead-lettered", "applied"]);
  // The batch attempt ran a and then failed on bad: rolled back, so a applies exactly once more.
  assert.deepEqual(seen.filter((x) => x === "a").length, 2);
  assert.equal(dead.length, 1);
});

Deno.test("applyRound() dead-letters poison without holding up the batch", async () => {
  const { d, dead } = deps(on(TOPIC, events.OrderCreatedEventSchema, () => Promise.resolve()));
  const out = await applyRound([
    order("a"),
    delivery({ value: new Uint8Array([0xff]) }),
    order("b"),
  ], d);
  assert.deepEqual(out.map((o) => o.kind), ["applied", "dead-lettered", "applied"]);
  assert.equal(dead.length, 1);
});

Deno.test("applyRound() writes nothing once shutdown began, so no poison is dead-lettered twice", async () => {
  let stopping = false;
  const { d, dead } = deps(on(TOPIC, events.OrderCreatedEventSchema, (e) => {
    if (e.orderId === "a") {
      stopping = true; // shutdown begins while a's transaction runs, and it fails
      throw new RetryLater("db down");
    }
    return Promise.resolve();
  }));
  d.hooks.stopping = () => stopping;
  const poisonAfter = delivery({ partition: 0, value: new Uint8Array([0xff]) });
  const poisonElsewhere = delivery({ partition: 1, value: new Uint8Array([0xff]) });
  const out = await applyRound([order("a"), order("b"), poisonAfter, poisonElsewhere], d);
  // Nothing is written once shutdown began: every offset stays unresolved, and the next owner
  // applies a and b and dead-letters each poison record, once.
  assert.deepEqual(out.map((o) => o.kind), ["aborted", "aborted", "aborted", "aborted"]);
  assert.equal(dead.length, 0);
});

Deno.test("applyRound() applies the events of several topics' partitions together, each partition in order", async () => {
  const seen: string[] = [];
  const { d, db } = deps(on(TOPIC, events.OrderCreatedEventSchema, (e) => {
    seen.push(e.orderId);
    return Promise.resolve();
  }));
  const p0 = [order("p0-a"), order("p0-b")].map((x) => ({ ...x, partition: 0 }));
  const p1 = [order("p1-a"), order("p1-b")].map((x) => ({ ...x, partition: 1 }));
  const out = await applyRound([...p0, ...p1], d);
  assert.deepEqual(out.map((o) => o.kind), ["applied", "applied", "applied", "applied"]);
  assert.deepEqual(seen, ["p0-a", "p0-b", "p1-a", "p1-b"]);
  assert.equal(db.txs, 1);
});

Deno.test("applyRound() sends the inbox claim with the reaction's first statement, not before it", async () => {
  const log: string[] = [];
  const db = fakeDb();
  const { d } = deps(
    on(TOPIC, events.OrderCreatedEventSchema, () => {
      log.push("reaction started");
      return Promise.resolve();
    }),
    db,
  );
  // The claim answers only after a macrotask, as a round trip would: the reaction must not wait.
  d.transaction = (name, fn) =>
    db.transaction(name, (tx) => {
      const slow = ((strings: TemplateStringsArray, ...values: unknown[]) => {
        log.push("claim sent");
        const answer = (tx as unknown as (s: TemplateStringsArray, ...v: unknown[]) => unknown)(
          strings,
          ...values,
        );
        return new Promise((r) => setTimeout(() => (log.push("claim answered"), r(answer)), 5));
      }) as unknown as Tx;
      return fn(slow);
    });
  assert.deepEqual(await applyOne(delivery(), d), { kind: "applied" });
  assert.deepEqual(log, ["claim sent", "reaction started", "claim answered"]);
});

Deno.test("applyRound() rolls back a round holding an event applied before, then applies the rest once", async () => {
  const { seen, d, dead, db } = recording();
  const first = order("o-1");
  await applyRound([first], d);
  const out = await applyRound([order("o-2"), { ...first }, order("o-3")], d);
  assert.deepEqual(out.map((o) => o.kind), ["applied", "duplicate", "applied"]);
  assert.deepEqual(seen, ["o-1", "o-2", "o-3"], "what the rolled-back round wrote is gone");
  assert.equal(dead.length, 0);
  assert.equal(
    db.txs,
    3,
    "o-1 alone, then the round: rolled back once, applied with the claim first",
  );
});

Deno.test("applyRound() applies a redelivered backlog in two transactions, not one per event", async () => {
  const { seen, d, db } = recording();
  const backlog = Array.from({ length: 50 }, (_, i) => order(`o-${i}`));
  await applyRound(backlog, d);
  const txs = db.txs;
  const again = await applyRound(backlog.map((x) => ({ ...x })), d);
  assert.ok(again.every((o) => o.kind === "duplicate"));
  assert.equal(db.txs - txs, 2);
  assert.equal(seen.length, 50, "each applied once");
});

Deno.test("applyRound() counts a reaction failing on an event applied before as a duplicate, not a failure", async () => {
  const rows = new Set<string>();
  const { d, dead, sleeps } = deps(on(TOPIC, events.OrderCreatedEventSchema, (e) => {
    // As a unique key would: the second time the same order is inserted, the statement fails.
    if (rows.has(e.orderId)) throw new Error(`duplicate key value: ${e.orderId}`);
    rows.add(e.orderId);
    return Promise.resolve();
  }));
  const msg = delivery();
  assert.deepEqual(await applyOne(msg, d), { kind: "applied" });
  assert.deepEqual(await applyOne(msg, d), { kind: "duplicate" });
  assert.equal(dead.length, 0);
  assert.deepEqual(sleeps, [], "not retried");
});
