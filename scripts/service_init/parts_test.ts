/**
 * service-init in parts, as Kubernetes runs it (Strimzi owns the topics and the connectors): a
 * service's placement and migrations without Kafka or Connect, and a relay's database prepared
 * alone. Against the test PostgreSQL, in a throwaway database that is dropped afterwards.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { placementOf, RELAY_SCHEMA, type RelaySpec } from "@stocklet/shared/topology";
import { ensureInfra } from "../infra/mod.ts";
import { prepareRelay, serviceInit, withDatabase } from "./mod.ts";

/** Addresses where nothing listens: a call to Kafka or Connect would fail the test. */
const NOWHERE = { kafkaBrokers: ["127.0.0.1:1"], connectUrl: "http://127.0.0.1:1" };

Deno.test("service-init in parts: placement and migrations without Kafka, then the relay's database", async () => {
  const infra = await ensureInfra("test");
  const suffix = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const database = `it_parts_${suffix}`;
  const placement = { ...placementOf("order"), database };
  const admin = postgres(infra.pgUrl("postgres"), { max: 1, onnotice: () => {} });
  try {
    const report = await serviceInit("order", {
      adminUrl: infra.pgUrl("postgres"),
      ...NOWHERE,
      placement,
      topics: false,
      relay: false,
    });
    assert.equal(report.createdDatabase, true);
    assert.ok(report.migrations.applied.length > 0, "the migrations ran");
    assert.equal(report.topics, undefined, "no topics");
    assert.equal(report.connector, undefined, "no connector");

    const relay: RelaySpec = {
      name: `it-parts-${suffix}`,
      slot: `it_parts_${suffix}`,
      publication: `it_parts_${suffix}`,
      database,
      services: ["order"],
      tables: ["order.outbox", `${RELAY_SCHEMA}.outbox`],
    };
    const db = postgres(withDatabase(infra.pgUrl("postgres"), database), {
      max: 1,
      onnotice: () => {},
    });
    try {
      const published = async () => ({
        tables: (await db<{ t: string }[]>`
          select schemaname || '.' || tablename as t from pg_publication_tables
          where pubname = ${relay.publication} order by 1`).map((r) => r.t),
        ops: [
          ...await db`
            select pubinsert, pubupdate, pubdelete, pubtruncate from pg_publication
            where pubname = ${relay.publication}`,
        ],
      });
      await prepareRelay(infra.pgUrl("postgres"), relay);
      const first = await published();
      assert.deepEqual(first.tables, [...relay.tables].sort());
      assert.deepEqual(first.ops, [
        { pubinsert: true, pubupdate: false, pubdelete: false, pubtruncate: false },
      ]);
      const [heartbeats] = await db`select to_regclass(${`${RELAY_SCHEMA}.outbox`}) as t`;
      assert.ok(heartbeats?.t, "the relay outbox exists");
      // Idempotent: a Job that runs again changes nothing.
      await prepareRelay(infra.pgUrl("postgres"), relay);
      assert.deepEqual(await published(), first);
    } finally {
      await db.end({ timeout: 5 });
    }
  } finally {
    await admin`drop database if exists ${admin(database)} with (force)`;
    await admin.end({ timeout: 5 });
  }
});
