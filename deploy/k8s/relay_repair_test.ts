/**
 * The Kubernetes relay repair (relay_repair.ts) for real: a relay on a throwaway PostgreSQL whose
 * slot is invalidated (its WAL removed), with its connector on the test stack's Kafka Connect,
 * repaired through a `KafkaConnector` resource. Kubernetes and Strimzi cannot run here: a small
 * stand-in serves the resource over the API's paths and does what Strimzi's operator does with it
 * (state → Connect's stop and resume, the offsets annotation → Connect's offsets reset, then the
 * annotation removed; Connect's status in `status.connectorStatus`).
 * @module
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { RELAY_SCHEMA, type RelaySpec } from "@stocklet/shared/topology";
import { relayConnectorConfig } from "@stocklet/scripts/service_init";
import {
  dropSlotOnceFree,
  prepareRelay,
  waitSlotActive,
} from "@stocklet/scripts/service_init/relay";
import { ensureTopics } from "@stocklet/scripts/service_init/topics";
import {
  deleteConnector,
  getConnectorStatus,
  putConnectorConfig,
  resetConnectorOffsets,
  resumeConnector,
  stopConnector,
  waitConnectorRunning,
} from "@stocklet/scripts/infra/connect";
import { testInfra } from "@stocklet/testing/infra";
import { collect, randomRow } from "@stocklet/testing/outbox";
import { startScratchPostgres } from "@stocklet/testing/scratch_postgres";
import { kubeApi, type KubeObject } from "./kube_api.ts";
import {
  OFFSETS_ANNOTATION,
  REPAIR_ANNOTATION,
  repairRelay,
  slotStatus,
  StrimziConnector,
} from "./relay_repair.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const TOKEN = "stand-in-token";

/** RFC 7386: objects merge, `null` removes, anything else replaces. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (!patch || typeof patch !== "object" || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    target && typeof target === "object" && !Array.isArray(target)
      ? { ...target as Record<string, unknown> }
      : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** Strimzi's part, for one connector: the resource, and the operator's reaction to changes. */
function strimziStandIn(connectUrl: string, namespace: string, name: string) {
  const path = `/apis/kafka.strimzi.io/v1/namespaces/${namespace}/kafkaconnectors/${name}`;
  let resource: KubeObject = { metadata: { name }, spec: {} };
  const actions: string[] = [];
  const reconcile = async () => {
    const state = (resource.spec?.state as string | undefined) ?? "running";
    const now = (await getConnectorStatus(connectUrl, name))?.connector.state;
    // Connect stops and resumes asynchronously: what was asked and not yet reported is not asked
    // again (a reconcile between the request and the new state would otherwise repeat it).
    const last = actions.at(-1);
    if (state === "stopped" && now !== "STOPPED" && last !== "stop") {
      await stopConnector(connectUrl, name);
      actions.push("stop");
    } else if (state === "running" && now === "STOPPED" && last !== "resume") {
      await resumeConnector(connectUrl, name);
      actions.push("resume");
    }
    const annotations = resource.metadata.annotations ?? {};
    if (annotations[OFFSETS_ANNOTATION] === "reset" && now === "STOPPED") {
      await resetConnectorOffsets(connectUrl, name);
      actions.push("reset offsets");
      resource = mergePatch(resource, {
        metadata: { annotations: { [OFFSETS_ANNOTATION]: null } },
      }) as KubeObject;
    }
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    if (req.headers.get("authorization") !== `Bearer ${TOKEN}`) {
      return Response.json({ message: "Unauthorized" }, { status: 401 });
    }
    if (new URL(req.url).pathname !== path) {
      return Response.json({ message: "not found" }, { status: 404 });
    }
    if (req.method === "PATCH") {
      assert.equal(req.headers.get("content-type"), "application/merge-patch+json");
      resource = mergePatch(resource, await req.json()) as KubeObject;
    }
    await reconcile(); // the operator reconciles on every change (and on its timer)
    const status = await getConnectorStatus(connectUrl, name);
    resource = { ...resource, status: { connectorStatus: status } };
    return Response.json(resource);
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    actions,
    resource: () => resource,
    close: () => server.shutdown(),
  };
}

Deno.test(
  "relay repair on Kubernetes: a lost slot is repaired through the KafkaConnector, and the rows it stranded reach Kafka",
  opts,
  async () => {
    const infra = await testInfra();
    // 1 MB WAL segments, and at most 2 MB kept for a lagging slot: losing one takes a few
    // segment switches instead of hundreds of megabytes of writes.
    const pg = await startScratchPostgres({
      walSegmentMb: 1,
      settings: {
        wal_level: "logical",
        max_replication_slots: "4",
        max_wal_senders: "4",
        max_slot_wal_keep_size: "2MB",
        wal_keep_size: "0",
      },
    });
    const s = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
    const relay: RelaySpec = {
      name: `it-repair-${s}`,
      slot: `it_repair_${s}`,
      publication: `it_repair_${s}`,
      database: "postgres",
      services: ["payment"],
      tables: ["payment.outbox", `${RELAY_SCHEMA}.outbox`],
    };
    const topic = `it.repair.${s}`;
    const dbUrl = pg.url("postgres");
    const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
    const strimzi = strimziStandIn(infra.connectUrl, "stocklet", relay.name);
    let received: Awaited<ReturnType<typeof collect>> | undefined;
    const insert = async (row: ReturnType<typeof randomRow>) => {
      await sql`insert into payment.outbox (id, aggregatetype, aggregateid, type, payload, traceparent)
        values (${row.id}, ${row.aggregatetype}, ${row.aggregateid}, ${row.type}, ${row.payload},
          ${row.traceparent})`;
    };
    try {
      await sql`create schema payment`;
      await sql`create table payment.outbox (id uuid primary key, aggregatetype text not null,
        aggregateid text not null, type text not null, payload bytea not null, traceparent text,
        created_at timestamptz not null default clock_timestamp())`;
      await prepareRelay(dbUrl, relay);
      await ensureTopics(infra.kafkaBrokers, [topic], 1);
      const rows = received = await collect(infra.kafkaBrokers, [topic]);
      // Without heartbeats the idle slot confirms nothing: its WAL is soon older than 2 MB.
      await putConnectorConfig(
        infra.connectUrl,
        relay.name,
        relayConnectorConfig({
          relay,
          db: { host: "127.0.0.1", port: pg.port, user: "postgres", password: "scratch" },
          partitions: 1,
          heartbeatMs: 0,
        }),
      );
      await waitConnectorRunning(infra.connectUrl, relay.name);
      await waitSlotActive(dbUrl, relay.slot);
      const first = randomRow(topic);
      await insert(first);
      await rows.waitFor((rs) => rs.some((r) => r.headers.id === first.id));

      // WAL moves on (segment switches) while the slot stays behind; a checkpoint removes the
      // old segments and invalidates it.
      await sql`create table filler (x int)`;
      for (let i = 0; i < 60 && (await slotStatus(dbUrl, relay.slot)) !== "lost"; i++) {
        await sql`insert into filler values (${i})`;
        await sql`select pg_switch_wal()`;
        if (i >= 4) await sql`checkpoint`;
      }
      assert.equal(await slotStatus(dbUrl, relay.slot), "lost");
      // An event written now would never be relayed by that slot.
      const stranded = randomRow(topic);
      await insert(stranded);

      const api = kubeApi({ baseUrl: strimzi.url, token: TOKEN, namespace: "stocklet" });
      const connector = new StrimziConnector(api, relay.name, { pollMs: 200, timeoutMs: 60_000 });
      const said: string[] = [];
      const t0 = performance.now();
      const outcome = await repairRelay({
        dbUrl,
        relay,
        connector,
        say: (line) => said.push(line),
        timeoutMs: 60_000,
      });
      assert.equal(outcome, "repaired");
      await rows.waitFor((rs) => rs.some((r) => r.headers.id === stranded.id));
      console.log(`repaired in ${Math.round(performance.now() - t0)} ms: ${said.join(" / ")}`);
      assert.deepEqual(strimzi.actions, ["stop", "reset offsets", "resume"]);
      assert.equal(await slotStatus(dbUrl, relay.slot), "ok");
      // Running, unmarked, nothing left for Strimzi to do.
      const k = strimzi.resource();
      assert.equal(k.spec?.state, "running");
      assert.equal(k.metadata.annotations?.[REPAIR_ANNOTATION], undefined);
      assert.equal(k.metadata.annotations?.[OFFSETS_ANNOTATION], undefined);
      // The next run finds nothing to do; and relays new rows.
      assert.equal(await repairRelay({ dbUrl, relay, connector, say: () => {} }), "healthy");
      const after = randomRow(topic);
      await insert(after);
      await rows.waitFor((rs) => rs.some((r) => r.headers.id === after.id));

      // A repair cut short once it had dropped the slot is finished by the next run.
      await api.mergePatch(connector.path, {
        metadata: { annotations: { [REPAIR_ANNOTATION]: "2026-01-01T00:00:00Z" } },
        spec: { state: "stopped" },
      });
      for (
        let i = 0;
        StrimziConnector.connectState(await connector.resource()) !== "STOPPED";
        i++
      ) {
        assert.ok(i < 100, "the connector did not stop");
        await new Promise((r) => setTimeout(r, 100));
      }
      await dropSlotOnceFree(dbUrl, relay.slot);
      const late = randomRow(topic);
      await insert(late);
      strimzi.actions.length = 0;
      said.length = 0;
      assert.equal(
        await repairRelay({ dbUrl, relay, connector, say: (l) => said.push(l), timeoutMs: 60_000 }),
        "repaired",
      );
      assert.match(said[0]!, /finishing the repair begun at 2026-01-01T00:00:00Z/);
      await rows.waitFor((rs) => rs.some((r) => r.headers.id === late.id));
      assert.deepEqual(strimzi.actions, ["reset offsets", "resume"]);
      assert.equal(strimzi.resource().metadata.annotations?.[REPAIR_ANNOTATION], undefined);
    } finally {
      await received?.stop();
      await deleteConnector(infra.connectUrl, relay.name).catch(() => {});
      await strimzi.close();
      await sql.end({ timeout: 5 });
      await pg.stop();
    }
  },
);

Deno.test("relay repair: the API is called as the service account, and a missing connector says so", async () => {
  const seen: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    seen.push(`${req.method} ${new URL(req.url).pathname} ${req.headers.get("authorization")}`);
    return Response.json({ kind: "Status", message: 'kafkaconnectors "x" not found' }, {
      status: 404,
    });
  });
  try {
    const api = kubeApi({
      baseUrl: `http://127.0.0.1:${server.addr.port}`,
      token: "t",
      namespace: "ns",
    });
    const connector = new StrimziConnector(api, "x");
    await assert.rejects(connector.resource(), /KafkaConnector x does not exist/);
    await assert.rejects(api.mergePatch(connector.path, {}), /404: kafkaconnectors "x" not found/);
    assert.deepEqual(seen, [
      "GET /apis/kafka.strimzi.io/v1/namespaces/ns/kafkaconnectors/x Bearer t",
      "PATCH /apis/kafka.strimzi.io/v1/namespaces/ns/kafkaconnectors/x Bearer t",
    ]);
  } finally {
    await server.shutdown();
  }
});
