/** The NetworkPolicy model on a small policy. */
import assert from "node:assert/strict";
import { matches, NetworkModel, OUTSIDE, pod } from "./network_model.ts";

Deno.test("network model: selectors, default allow, and both ends' policies", () => {
  assert.ok(matches({ matchLabels: { a: "1" } }, { a: "1", b: "2" }));
  assert.ok(
    !matches({ matchExpressions: [{ key: "a", operator: "In", values: ["2"] }] }, { a: "1" }),
  );
  assert.ok(matches({ matchExpressions: [{ key: "c", operator: "DoesNotExist" }] }, { a: "1" }));
  const web = pod("ns", { app: "web" });
  const db = pod("ns", { app: "db" });
  assert.ok(new NetworkModel([], "ns").allows(web, db, 5432), "no policy: allowed");
  const policies = [{
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: "db", namespace: "ns" },
    spec: {
      podSelector: { matchLabels: { app: "db" } },
      policyTypes: ["Ingress"],
      ingress: [{
        from: [{ podSelector: { matchLabels: { app: "web" } } }],
        ports: [{ port: 5432 }],
      }],
    },
  }];
  const model = new NetworkModel(policies, "ns");
  assert.ok(model.allows(web, db, 5432));
  assert.ok(!model.allows(web, db, 5433), "another port");
  assert.ok(!model.allows(pod("other", { app: "web" }), db, 5432), "another namespace");
  assert.ok(!model.allows(OUTSIDE, db, 5432), "outside");
});
