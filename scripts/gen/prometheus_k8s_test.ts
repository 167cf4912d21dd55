import assert from "node:assert/strict";
import { prometheusOperatorManifests } from "./prometheus_k8s.ts";

Deno.test("prometheusOperatorManifests() scrapes the collector and carries the compose alert rules", async () => {
  const [monitor, rule] = await prometheusOperatorManifests({
    namespace: "stocklet",
    collectorSelector: { "app.kubernetes.io/name": "otel-collector" },
  }) as Array<{ kind: string; spec: Record<string, unknown>; metadata: { namespace: string } }>;
  assert.equal(monitor!.kind, "ServiceMonitor");
  assert.deepEqual(monitor!.spec.selector, {
    matchLabels: { "app.kubernetes.io/name": "otel-collector" },
  });
  assert.equal(rule!.kind, "PrometheusRule");
  assert.equal(rule!.metadata.namespace, "stocklet");
  const groups = rule!.spec.groups as Array<{ rules: Array<{ alert: string }> }>;
  const alerts = groups.flatMap((g) => g.rules.map((r) => r.alert));
  for (const a of ["StockletDeadLetters", "StockletConsumerLag", "StockletSagaErrorRate"]) {
    assert.ok(alerts.includes(a), a);
  }
});
