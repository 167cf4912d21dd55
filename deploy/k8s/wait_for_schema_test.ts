/** When the Deployments' init container lets a service start. */
import assert from "node:assert/strict";
import { schemaReady } from "./wait_for_schema.ts";

Deno.test("wait-for-schema: the schema serves the image's code once at its last migration", () => {
  assert.ok(schemaReady({ version: 2, dirty: false }, 2));
  assert.ok(schemaReady({ version: 3, dirty: false }, 2), "a newer schema (migrations only add)");
  assert.ok(!schemaReady({ version: 1, dirty: false }, 2), "the Job has not run");
  assert.ok(!schemaReady({ version: 2, dirty: true }, 2), "half applied");
  assert.ok(!schemaReady({ version: null, dirty: false }, 2), "nothing yet");
  assert.ok(schemaReady({ version: null, dirty: false }, null), "no migrations at all");
});
