/**
 * The instruments, read back the way an operator sees them: through the stack's collector, from
 * what every process exported over OTLP (never by looking inside a process). A request moves the
 * RPC and edge instruments, an order moves the saga and consumer ones, a poison message the dead
 * letters.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { Partitioners } from "kafkajs";
import { uuidv7 } from "@stocklet/shared/ids";
import { order } from "@stocklet/shared/proto";
import { grpcClient } from "@stocklet/shared/server";
import { consumerGroupOf } from "@stocklet/shared/topology";
import { type Api, api } from "@stocklet/testing/stack";
import { testKafka } from "@stocklet/testing/kafka";
import {
  counterTotal,
  fetchMetrics,
  sagaFigures,
  waitForMetrics,
} from "@stocklet/scripts/top/client";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** The test stack's collector. */
function collectorOf(a: Api): string {
  const url = a.stack.collectorUrl;
  assert.ok(url, "the test stack runs a collector");
  return url;
}

/**
 * Waits until every named service exported after this moment (so what happened before is in the
 * collector), then returns the metrics.
 */
async function settled(a: Api, services: readonly string[], names: readonly string[]) {
  const t0 = Date.now();
  const clock = await waitForMetrics(
    collectorOf(a),
    { names: ["process.memory.usage"], windowMs: 10_000 },
    (m) =>
      services.every((svc) =>
        m.series.some((s) => s.service === svc && (s.points.at(-1)?.t ?? 0) > t0)
      ),
  );
  for (const svc of services) {
    assert.ok(
      clock.series.some((s) => s.service === svc && (s.points.at(-1)?.t ?? 0) > t0),
      `${svc} exports metrics to the collector`,
    );
  }
  return await fetchMetrics(collectorOf(a), { names, windowMs: 10_000 });
}

/** Waits until a counter's total reaches at least `atLeast`; returns the total. */
async function reaches(
  a: Api,
  name: string,
  attrs: Record<string, unknown>,
  service: string,
  atLeast: number,
): Promise<number> {
  const m = await waitForMetrics(
    collectorOf(a),
    { names: [name], service, windowMs: 10_000 },
    (m) => counterTotal(m.series, name, attrs, service) >= atLeast,
  );
  return counterTotal(m.series, name, attrs, service);
}

Deno.test(
  "metrics: a request moves the RPC instruments per transport and the edge's per route",
  opts,
  async () => {
    const a = await api();
    const c = await a.customer();
    const rpc = "rpc.server.call.duration";
    const edge = "http.server.request.duration";
    const rest = {
      "rpc.system.name": "http",
      "rpc.method": "stocklet.order.v1.OrderService/ViewOrder",
      "rpc.response.status_code": "NOT_FOUND",
    };
    const grpcAttrs = {
      "rpc.system.name": "grpc",
      "rpc.method": "stocklet.order.v1.OrderService/ServiceInfo",
      "rpc.response.status_code": "OK",
    };
    const route = {
      "http.route": "/v1/order/orders/{order_id}",
      "http.response.status_code": 404,
    };
    const before = await settled(a, ["order", "edge"], [rpc, edge, "stocklet.edge.cache.requests"]);
    const restBefore = counterTotal(before.series, rpc, rest, "order");
    const grpcBefore = counterTotal(before.series, rpc, grpcAttrs, "order");
    const edgeBefore = counterTotal(before.series, edge, route, "edge");
    const hitsBefore = counterTotal(
      before.series,
      "stocklet.edge.cache.requests",
      { "stocklet.cache.result": "hit" },
      "edge",
    );

    // Two REST calls through the edge (404: no such order), one gRPC call straight to the service.
    for (let i = 0; i < 2; i++) {
      const r = await a.call("GET", `/v1/order/orders/${uuidv7()}`, { token: c.token });
      assert.equal(r.status, 404);
    }
    const client = grpcClient(order.OrderService, `127.0.0.1:${a.stack.ports.grpc.order}`);
    try {
      assert.equal((await client.serviceInfo({})).name, "order");
    } finally {
      client.close();
    }
    // A public read twice: the second comes from the edge's cache.
    for (let i = 0; i < 2; i++) assert.equal((await a.call("GET", "/v1/product/list")).status, 200);

    assert.ok(await reaches(a, rpc, rest, "order", restBefore + 2) >= restBefore + 2);
    assert.ok(await reaches(a, rpc, grpcAttrs, "order", grpcBefore + 1) >= grpcBefore + 1);
    assert.ok(await reaches(a, edge, route, "edge", edgeBefore + 2) >= edgeBefore + 2);
    assert.ok(
      await reaches(
        a,
        "stocklet.edge.cache.requests",
        { "stocklet.cache.result": "hit" },
        "edge",
        hitsBefore + 1,
      ) >=
        hitsBefore + 1,
    );
    // A client's mistake is not the server's failure: no error.type on a 404.
    const after = await fetchMetrics(collectorOf(a), { names: [rpc], service: "order" });
    const notFound = after.series.find((s) =>
      s.attributes["rpc.method"] === rest["rpc.method"] &&
      s.attributes["rpc.response.status_code"] === "NOT_FOUND"
    );
    assert.ok(notFound, "the NOT_FOUND series exists");
    assert.equal(notFound.attributes["error.type"], undefined);
    assert.equal(notFound.unit, "s");
    assert.equal(notFound.kind, "histogram");
  },
);

Deno.test(
  "metrics: orders move the saga's outcomes and duration and each consumer's instruments",
  opts,
  async () => {
    const a = await api();
    const names = [
      "stocklet.saga.started",
      "stocklet.saga.completed",
      "stocklet.saga.duration",
      "messaging.client.consumed.messages",
      "stocklet.event.hop.duration",
    ];
    const approved = { "stocklet.saga.outcome": "approved" };
    const rejected = {
      "stocklet.saga.outcome": "rejected",
      "stocklet.saga.reason": "payment_failed",
    };
    // Every order, priced as it was placed or quoted by product, is reserved by the warehouse.
    const reserved = {
      "messaging.consumer.group.name": consumerGroupOf("warehouse"),
      "messaging.destination.name": "order.state.pending",
      "stocklet.outcome": "applied",
    };
    const before = await settled(a, ["order", "warehouse"], names);
    const count = (name: string, attrs: Record<string, unknown>, svc: string) =>
      counterTotal(before.series, name, attrs, svc);
    const startedBefore = count("stocklet.saga.started", {}, "order");
    const approvedBefore = count("stocklet.saga.completed", approved, "order");
    const rejectedBefore = count("stocklet.saga.completed", rejected, "order");
    const timedBefore = count("stocklet.saga.duration", approved, "order");
    const reservedBefore = count("messaging.client.consumed.messages", reserved, "warehouse");

    const p = await a.product(700, 10);
    const rich = await a.customer();
    const poor = await a.customer();
    await a.credit(rich.id, 10_000n);
    const ok = await a.settled(rich, (await a.place(rich, { [p]: 1 })).id);
    const no = await a.settled(poor, (await a.place(poor, { [p]: 1 })).id);
    assert.equal(ok.status, "ORDER_STATUS_APPROVED");
    assert.equal(no.status, "ORDER_STATUS_REJECTED");

    assert.ok(
      await reaches(a, "stocklet.saga.started", {}, "order", startedBefore + 2) >=
        startedBefore + 2,
    );
    assert.ok(
      await reaches(a, "stocklet.saga.completed", approved, "order", approvedBefore + 1) >=
        approvedBefore + 1,
    );
    assert.ok(
      await reaches(a, "stocklet.saga.completed", rejected, "order", rejectedBefore + 1) >=
        rejectedBefore + 1,
    );
    assert.ok(
      await reaches(a, "stocklet.saga.duration", approved, "order", timedBefore + 1) >=
        timedBefore + 1,
    );
    assert.ok(
      await reaches(
        a,
        "messaging.client.consumed.messages",
        reserved,
        "warehouse",
        reservedBefore + 2,
      ) >= reservedBefore + 2,
    );
    const m = await fetchMetrics(collectorOf(a), {
      names: [
        "stocklet.saga.duration",
        "stocklet.event.hop.duration",
        "stocklet.event.relay.duration",
        "stocklet.event.delivery.duration",
        "messaging.process.duration",
        "stocklet.consumer.lag",
      ],
    });
    // The saga's duration is place → terminal: more than nothing, less than the test took.
    const saga = m.series.find((s) =>
      s.name === "stocklet.saga.duration" && s.attributes["stocklet.saga.outcome"] === "approved"
    );
    const h = saga?.points.at(-1)?.h;
    assert.ok(h && h.count > 0 && h.sum > 0 && h.sum / h.count < 30, "a plausible mean duration");
    for (
      const name of [
        "stocklet.event.hop.duration",
        "stocklet.event.relay.duration",
        "stocklet.event.delivery.duration",
        "messaging.process.duration",
      ]
    ) {
      assert.ok(
        m.series.some((s) =>
          s.service === "warehouse" && s.name === name && (s.points.at(-1)?.h?.count ?? 0) > 0 &&
          // The whole hop by topic; its stages per service.
          (name !== "stocklet.event.hop.duration" ||
            s.attributes["messaging.destination.name"] === "order.state.pending")
        ),
        `warehouse records ${name}`,
      );
    }
    // The bench's figures from the same metrics.
    const f = await sagaFigures(collectorOf(a), 60_000);
    assert.ok(f.placeToTerminalMs.count >= 2, "both sagas ended in the last minute");
    assert.ok(f.placeToTerminalMs.p50! > 0 && f.placeToTerminalMs.p99! >= f.placeToTerminalMs.p50!);
    assert.ok(f.hopMs.count > 0 && f.stagesMs.relay.count > 0 && f.stagesMs.apply.count > 0);
    // Every consumer reports its lag per topic-partition (end offset − committed).
    const lag = m.series.filter((s) => s.name === "stocklet.consumer.lag" && s.service === "order");
    assert.ok(
      lag.some((s) =>
        s.attributes["messaging.destination.name"] === "payment.processing" &&
        s.attributes["messaging.destination.partition.id"] === "0"
      ),
      "the order service's lag on payment.processing",
    );
  },
);

Deno.test("metrics: a dead-lettered message is counted as such", opts, async () => {
  const a = await api();
  const topic = "user.state.created";
  const dead = {
    "messaging.consumer.group.name": consumerGroupOf("payment"),
    "messaging.destination.name": topic,
    "stocklet.outcome": "dead_lettered",
  };
  const before = await settled(a, ["payment"], ["messaging.client.consumed.messages"]);
  const deadBefore = counterTotal(
    before.series,
    "messaging.client.consumed.messages",
    dead,
    "payment",
  );

  const kafka = testKafka(a.stack.infra.kafkaBrokers);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    await producer.send({
      topic,
      messages: [{
        key: `poison-${uuidv7()}`,
        value: Buffer.from([0xff, 0xff, 0xff, 0x07]),
        headers: { id: uuidv7() },
      }],
    });
  } finally {
    await producer.disconnect();
  }
  const after = await reaches(
    a,
    "messaging.client.consumed.messages",
    dead,
    "payment",
    deadBefore + 1,
  );
  assert.equal(after, deadBefore + 1);
});
