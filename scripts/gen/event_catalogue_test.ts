import assert from "node:assert/strict";
import { join } from "node:path";
import { events } from "@stocklet/shared/proto";
import { TOPICS } from "@stocklet/shared/topics";
import { consumerGroupOf, deadLetterTopicOf } from "@stocklet/shared/topology";
import {
  anchorOf,
  CatalogueError,
  type CatalogueInput,
  catalogueMarkdown,
  deadLetterHeadersOf,
  filterMeaning,
} from "./event_catalogue.ts";
import { publicationsOf, type Subscription, subscriptionsOf } from "./source_scan.ts";

async function realInput(): Promise<CatalogueInput> {
  return {
    subscriptions: await subscriptionsOf(),
    publications: await publicationsOf(),
    deadLetterHeaders: await deadLetterHeadersOf(),
  };
}

/** The text of the `### <topic>` section of the topic details. */
function topicSection(md: string, topic: string): string {
  const details = md.slice(md.indexOf("## Topic details"), md.indexOf("## Messages"));
  const start = details.indexOf(`### ${topic}\n`);
  assert.ok(start >= 0, `no section for ${topic}`);
  const end = details.indexOf("\n### ", start + 1);
  return details.slice(start, end === -1 ? undefined : end);
}

Deno.test("catalogueMarkdown() lists every topic of TOPICS with its message", async () => {
  const md = catalogueMarkdown(await realInput());
  for (const [topic, schema] of TOPICS) {
    assert.match(
      md,
      new RegExp(
        `\\| \\[\`${topic.replaceAll(".", "\\.")}\`\\]\\(#${
          anchorOf(topic)
        }\\) \\| \\[${schema.name}\\]`,
      ),
    );
    assert.ok(topicSection(md, topic).includes(`Message: [${schema.name}]`), topic);
    assert.ok(md.includes(`### ${schema.name}\n`), `no section for ${schema.name}`);
  }
});

Deno.test("catalogueMarkdown() names each subscription's service under its topic", async () => {
  const input = await realInput();
  assert.ok(input.subscriptions.length >= 10, "the scan found the services' subscriptions");
  const md = catalogueMarkdown(input);
  for (const s of input.subscriptions) {
    const section = topicSection(md, s.topic);
    assert.ok(section.includes(`- Consumed by ${s.service}:`), `${s.topic} → ${s.service}`);
    assert.ok(section.includes(s.file), `${s.topic} names ${s.file}`);
  }
  // A topic no one subscribes to says so.
  const unconsumed = [...TOPICS.keys()].filter((t) =>
    !input.subscriptions.some((s) => s.topic === t)
  );
  for (const t of unconsumed) assert.ok(topicSection(md, t).includes("- Consumers: none."), t);
});

Deno.test("catalogueMarkdown() lists the dead-letter topic of every consuming service", async () => {
  const input = await realInput();
  const md = catalogueMarkdown(input);
  for (const svc of new Set(input.subscriptions.map((s) => s.service))) {
    assert.ok(md.includes(`| \`${deadLetterTopicOf(consumerGroupOf(svc))}\` | ${svc} `), svc);
  }
  for (const h of input.deadLetterHeaders) assert.ok(md.includes(`\`${h}\``), h);
  assert.ok(input.deadLetterHeaders.includes("dlq.error"));
  assert.match(md, /```mermaid\nsequenceDiagram\n/);
  assert.match(md, /```mermaid\nflowchart LR\n/);
  assert.match(md, /header `traceparent`/);
});

Deno.test("catalogueMarkdown() uses the proto comments when given", async () => {
  const md = catalogueMarkdown({
    ...await realInput(),
    comments: new Map([
      ["stocklet.events.v1.OrderCreatedEvent", "OrderCreatedEvent: an order was placed."],
      ["stocklet.events.v1.OrderCreatedEvent.order_id", "The order's id."],
    ]),
  });
  assert.ok(topicSection(md, "order.state.created").includes("An order was placed."));
  assert.match(md, /\| 2 \| `order_id` \| `string` \| The order's id\. \|/);
});

function sub(over: Partial<Subscription>): Subscription {
  return {
    service: "order",
    topic: "payment.processing",
    message: "PaymentProcessedEvent",
    calls: [],
    aliases: { Payment: "PaymentProcessedEvent_Type" },
    file: "services/order/reactions.ts",
    ...over,
  };
}

Deno.test("filterMeaning() turns type tests into proto enum names", () => {
  const schema = events.PaymentProcessedEventSchema;
  assert.deepEqual(
    filterMeaning(
      sub({ filter: "e.type === Payment.SUCCESS || e.type === Payment.FAILED" }),
      schema,
    ),
    { types: ["TYPE_SUCCESS", "TYPE_FAILED"] },
  );
  assert.equal(filterMeaning(sub({}), schema), undefined);
  assert.deepEqual(filterMeaning(sub({ filter: "e.amountCents > 0n" }), schema), {
    code: "e.amountCents > 0n",
  });
  assert.throws(
    () => filterMeaning(sub({ filter: "e.type === Payment.REFUNDED" }), schema),
    CatalogueError,
  );
  assert.throws(
    () => filterMeaning(sub({ filter: "e.type === Other.SUCCESS", aliases: {} }), schema),
    /not an enum alias/,
  );
});

Deno.test("catalogueMarkdown() refuses code that disagrees with the contracts or the saga", async () => {
  const input = await realInput();
  // A subscription to a topic no event declares.
  assert.throws(
    () =>
      catalogueMarkdown({
        ...input,
        subscriptions: [...input.subscriptions, sub({ topic: "order.state.lost" })],
      }),
    /no event declares/,
  );
  // A publication of the wrong message.
  assert.throws(
    () =>
      catalogueMarkdown({
        ...input,
        publications: [...input.publications, {
          service: "order",
          topic: "order.state.created",
          key: "o.id",
          message: "OrderPendingEvent",
          file: "services/order/saga.ts",
        }],
      }),
    /carries OrderCreatedEvent/,
  );
  // The saga diagram's arrows must match the subscriptions: without warehouse's, it fails.
  assert.throws(
    () =>
      catalogueMarkdown({
        ...input,
        subscriptions: input.subscriptions.filter((s) =>
          !(s.service === "warehouse" && s.topic === "order.state.pending")
        ),
      }),
    /saga: warehouse does not subscribe to order.state.pending/,
  );
  // … and their types must pass the receiver's filter.
  assert.throws(
    () =>
      catalogueMarkdown({
        ...input,
        subscriptions: input.subscriptions.map((s) =>
          s.service === "order" && s.topic === "payment.processing"
            ? { ...s, filter: "e.type === Payment.SUCCESS" }
            : s
        ),
      }),
    /saga: order ignores payment.processing TYPE_FAILED/,
  );
});

Deno.test("deadLetterHeadersOf() reads the dlq.* headers the consumer kit writes", async () => {
  const headers = await deadLetterHeadersOf();
  assert.ok(headers.includes("dlq.topic") && headers.includes("dlq.attempts"), String(headers));
  const root = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(root, "shared", "consumer"), { recursive: true });
    await Deno.writeTextFile(join(root, "shared", "consumer", "dead_letter.ts"), "export {};");
    await assert.rejects(deadLetterHeadersOf(root), CatalogueError);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
