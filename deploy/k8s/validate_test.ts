/** The schema preparation, on small inputs. */
import assert from "node:assert/strict";
import { closedCrdSchema, parseYamlStream, standalone } from "./validate.ts";

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
