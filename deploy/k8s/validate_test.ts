/** The schema preparation, on small inputs. */
import assert from "node:assert/strict";
import { closedCrdSchema, kindFile, parseYamlStream, standalone } from "./validate.ts";

Deno.test("validate: a core schema gets the definitions it reaches, and only those", () => {
  const defs = {
    A: { properties: { b: { $ref: "#/$defs/B" } } },
    B: { type: "string" },
    C: { type: "number" },
  };
  const out = standalone({ properties: { a: { $ref: "/api/_definitions.json#/$defs/A" } } }, defs);
  assert.deepEqual(out.properties, { a: { $ref: "#/$defs/A" } });
  assert.deepEqual(Object.keys(out.$defs as object), ["A", "B"]);
  assert.throws(() => standalone({ $ref: "#/$defs/Z" }, defs), /unknown definition Z/);
});

Deno.test("validate: a CRD schema is closed at the top and checks metadata", () => {
  const meta = { $ref: "#/$defs/ObjectMeta" };
  const out = closedCrdSchema({ properties: { spec: {}, metadata: { type: "object" } } }, meta);
  assert.equal(out.additionalProperties, false);
  assert.deepEqual((out.properties as Record<string, unknown>).metadata, meta);
});

Deno.test("validate: a YAML stream gives its objects, skipping empty documents", () => {
  const objects = parseYamlStream("kind: A\nmetadata: {name: a}\n---\n---\nkind: B\n");
  assert.deepEqual(objects.map((o) => o.kind), ["A", "B"]);
});

Deno.test("validate: a kind's schema file is named as kubeconform looks it up", () => {
  assert.equal(kindFile("v1", "ConfigMap"), "configmap-v1.json");
  assert.equal(kindFile("apps/v1", "Deployment"), "deployment-apps-v1.json");
  assert.equal(
    kindFile("networking.k8s.io/v1", "NetworkPolicy"),
    "networkpolicy-networking-v1.json",
  );
  assert.equal(kindFile("rbac.authorization.k8s.io/v1", "Role"), "role-rbac-v1.json");
});
