/**
 * The running stack's application processes run from their bundles (scripts/stack/bundle.ts), and
 * what a bundled module reads relative to itself is there: the edge serves the repository's
 * OpenAPI document. (Every other e2e test exercises the bundles' code paths.)
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { appPid } from "@stocklet/scripts/stack/apps";
import { bundleable, bundled, bundleFileOf } from "@stocklet/scripts/stack/config";
import { ROOT } from "@stocklet/scripts/paths";
import { stackApps } from "@stocklet/scripts/stack";
import { api } from "@stocklet/testing/stack";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test(
  "bundles: every service, the edge and the web front run from their bundle",
  opts,
  async () => {
    await api();
    if (!bundled()) return; // STOCKLET_BUNDLE=off: the sources run, nothing to check here
    const apps = (await stackApps()).filter(bundleable);
    assert.ok(apps.includes("order") && apps.includes("edge"), apps.join(", "));
    for (const app of apps) {
      const pid = appPid("test", app);
      assert.ok(pid !== undefined, `${app} is not running`);
      const argv = (await Deno.readTextFile(`/proc/${pid}/cmdline`)).split("\0");
      assert.ok(argv.includes(bundleFileOf(app, "test")), `${app}: ${argv.join(" ")}`);
    }
  },
);

Deno.test("bundles: the bundled edge serves the repository's OpenAPI document", opts, async () => {
  const { stack } = await api();
  const res = await fetch(`${stack.edgeUrl}/openapi.json`);
  assert.equal(res.status, 200);
  const served = await res.json();
  const onDisk = JSON.parse(await Deno.readTextFile(join(ROOT, "docs", "openapi.json")));
  assert.deepEqual(served, onDisk);
});
