/**
 * The compose deployment's dashboards and alert rules refer only to series the code produces (the
 * instruments it creates, by their Prometheus names), through the datasource Grafana provisions;
 * the dashboard files are what `deno task gen` writes.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { parse } from "yaml";
import { ROOT } from "@stocklet/scripts/paths";
import { instrumentsOf, prometheusNamesOf, seriesNamesIn } from "../../scripts/gen/instruments.ts";
import {
  dashboardPath,
  DASHBOARDS,
  DATASOURCE,
  renderDashboard,
} from "../../scripts/gen/grafana.ts";

interface Panel {
  title: string;
  type: string;
  datasource: { uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets: Array<{ expr: string; refId: string }>;
}

async function knownSeries(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const i of await instrumentsOf()) for (const n of prometheusNamesOf(i)) names.add(n);
  return names;
}

Deno.test("instrumentsOf() finds the instruments, and their Prometheus names follow the exporter", async () => {
  const all = await instrumentsOf();
  const byName = new Map(all.map((i) => [i.name, i]));
  for (
    const name of [
      "rpc.server.call.duration",
      "http.server.request.duration",
      "messaging.client.consumed.messages",
      "stocklet.consumer.lag",
      "stocklet.saga.duration",
      "stocklet.outbox.pending",
    ]
  ) assert.ok(byName.has(name), `${name} is created somewhere`);
  assert.deepEqual(prometheusNamesOf(byName.get("stocklet.saga.started")!), [
    "stocklet_saga_started_total",
  ]);
  assert.deepEqual(prometheusNamesOf(byName.get("process.memory.usage")!), [
    "process_memory_usage_bytes",
  ]);
  assert.deepEqual(prometheusNamesOf(byName.get("rpc.server.call.duration")!), [
    "rpc_server_call_duration_seconds_bucket",
    "rpc_server_call_duration_seconds_sum",
    "rpc_server_call_duration_seconds_count",
  ]);
  // Units follow UCUM as the conventions ask: seconds, bytes, or an annotation in braces.
  for (const i of all) assert.match(i.unit, /^(s|By|\{[a-z_]+\})$/, `${i.name}: unit ${i.unit}`);
  assert.deepEqual(
    seriesNamesIn(`histogram_quantile(0.99, sum by (job, le) (rate(a_bucket{x="y z"}[1m]))) / b`),
    ["a_bucket", "b"],
  );
});

Deno.test("grafana: the dashboards are generated, and every panel reads series the code produces", async () => {
  const known = await knownSeries();
  const problems: string[] = [];
  const uids = new Set<string>();
  for (const spec of DASHBOARDS) {
    const path = join(ROOT, dashboardPath(spec));
    const text = await Deno.readTextFile(path);
    assert.equal(
      text,
      await renderDashboard(spec),
      `${dashboardPath(spec)} is stale: deno task gen`,
    );
    const d = JSON.parse(text) as { uid: string; title: string; panels: Panel[] };
    assert.ok(!uids.has(d.uid), `unique uid ${d.uid}`);
    uids.add(d.uid);
    assert.ok(d.panels.length >= 6, `${d.title} has panels`);
    for (const p of d.panels) {
      if (p.datasource.uid !== DATASOURCE.uid) problems.push(`${d.title} / ${p.title}: datasource`);
      if (p.gridPos.x + p.gridPos.w > 24) problems.push(`${d.title} / ${p.title}: too wide`);
      if (!p.targets.length) problems.push(`${d.title} / ${p.title}: no query`);
      for (const t of p.targets) {
        for (const name of seriesNamesIn(t.expr)) {
          if (!known.has(name)) problems.push(`${d.title} / ${p.title}: no series ${name}`);
        }
      }
    }
  }
  assert.deepEqual(problems, []);
  assert.deepEqual([...uids].sort(), ["stocklet-consumers", "stocklet-saga", "stocklet-services"]);
});

Deno.test("grafana: provisioning names the datasource the dashboards use and the folder they are in", async () => {
  const ds = parse(
    await Deno.readTextFile(join(ROOT, "deploy/grafana/provisioning/datasources/prometheus.yaml")),
  ) as { datasources: Array<{ uid: string; type: string; url: string }> };
  assert.deepEqual(
    ds.datasources.map((d) => ({ uid: d.uid, type: d.type })),
    [{ uid: DATASOURCE.uid, type: DATASOURCE.type }],
  );
  assert.equal(ds.datasources[0]!.url, "http://prometheus:9090");
  const dash = parse(
    await Deno.readTextFile(join(ROOT, "deploy/grafana/provisioning/dashboards/stocklet.yaml")),
  ) as { providers: Array<{ options: { path: string } }> };
  assert.equal(dash.providers[0]!.options.path, "/var/lib/grafana/dashboards");
});

Deno.test("prometheus: the alert rules are well formed and read series the code produces", async () => {
  const known = await knownSeries();
  const rules = parse(await Deno.readTextFile(join(ROOT, "deploy/prometheus/alerts.yaml"))) as {
    groups: Array<{
      name: string;
      rules: Array<
        {
          alert: string;
          expr: string;
          for?: string;
          labels: { severity: string };
          annotations: { summary: string };
        }
      >;
    }>;
  };
  const alerts = rules.groups.flatMap((g) => g.rules);
  const names = alerts.map((a) => a.alert);
  for (const a of ["StockletDeadLetters", "StockletConsumerLag", "StockletSagaErrorRate"]) {
    assert.ok(names.includes(a), `alert ${a}`);
  }
  const problems: string[] = [];
  for (const a of alerts) {
    if (!["warning", "critical"].includes(a.labels?.severity)) {
      problems.push(`${a.alert}: severity`);
    }
    if (!a.annotations?.summary) problems.push(`${a.alert}: summary`);
    if (a.for !== undefined && !/^\d+[smh]$/.test(a.for)) problems.push(`${a.alert}: for ${a.for}`);
    for (const name of seriesNamesIn(a.expr)) {
      if (!known.has(name)) problems.push(`${a.alert}: no series ${name}`);
    }
  }
  assert.deepEqual(problems, []);
});
