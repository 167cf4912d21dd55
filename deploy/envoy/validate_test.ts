/**
 * deploy/envoy/envoy.yaml against Envoy's own API (deploy/envoy/validate, a Go program on
 * go-control-plane: protojson into the v3 Bootstrap, then every protoc-gen-validate rule, inside
 * each typed_config too), and broken configurations that prove each layer rejects.
 * @module
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { IMAGES } from "@stocklet/scripts/gen/compose";
import { k8sTool } from "@stocklet/scripts/k8s_tools";

const HERE = dirname(fileURLToPath(import.meta.url));
const ENVOY_YAML = join(HERE, "envoy.yaml");
const K8S_COPY = join(HERE, "..", "k8s", "base", "envoy.yaml");

let validator: Promise<string> | undefined;

/**
 * The validator, built once per change of its sources into .stocklet/bin (by `deno task test`,
 * before the tests run: scripts/lib/k8s_tools.ts).
 */
function build(): Promise<string> {
  return validator ??= k8sTool("envoyValidator");
}

async function validate(...files: string[]): Promise<{ ok: boolean; out: string }> {
  const out = await new Deno.Command(await build(), {
    args: files,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const dec = new TextDecoder();
  return { ok: out.success, out: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

/** A copy of envoy.yaml with one edit, in a temporary file. */
async function broken(edit: (text: string) => string): Promise<string> {
  const text = await Deno.readTextFile(ENVOY_YAML);
  const changed = edit(text);
  assert.notEqual(changed, text, "the edit changed nothing");
  const file = await Deno.makeTempFile({ prefix: "stocklet-envoy-", suffix: ".yaml" });
  await Deno.writeTextFile(file, changed);
  return file;
}

Deno.test("envoy: the generated configuration (and its Kubernetes copy) is a valid v3 Bootstrap", async () => {
  const r = await validate(ENVOY_YAML, K8S_COPY);
  assert.ok(r.ok, r.out);
  assert.match(r.out, /envoy\.yaml: valid/);
});

Deno.test("envoy: broken configurations are rejected, each with its reason", async () => {
  const cases: Array<{ why: string; edit: (t: string) => string; expect: RegExp }> = [
    {
      why: "a rule on a top-level message (connect_timeout must be > 0)",
      edit: (t) => t.replace("connect_timeout: 1s", "connect_timeout: -1s"),
      expect: /Clusters\[0\]\.ConnectTimeout: value must be greater than 0s/,
    },
    {
      why: "a rule inside a typed_config (the connection manager's stat_prefix is required)",
      edit: (t) => t.replace("stat_prefix: edge", 'stat_prefix: ""'),
      expect: /HttpConnectionManager>\.StatPrefix: value length must be at least 1/,
    },
    {
      why: "an unknown field",
      edit: (t) =>
        t.replace("stat_prefix: edge", "stat_prefix: edge\n                stat_prefx: edge"),
      expect: /unknown field "stat_prefx"/,
    },
    {
      why: "a wrong type",
      edit: (t) => t.replace(/max_request_bytes: \d+/, "max_request_bytes: lots"),
      expect: /not a v3 Bootstrap/,
    },
    {
      why: "a typed_config type that does not exist",
      edit: (t) => t.replace("v3.Router", "v3.Routr"),
      expect: /unable to resolve/,
    },
  ];
  for (const c of cases) {
    const file = await broken(c.edit);
    try {
      const r = await validate(file);
      assert.equal(r.ok, false, `${c.why}: accepted`);
      assert.match(r.out, c.expect, c.why);
    } finally {
      await Deno.remove(file);
    }
  }
});

Deno.test("envoy: the API validated against is the Envoy version deployed", async () => {
  const gomod = await Deno.readTextFile(join(HERE, "validate", "go.mod"));
  const api = /github\.com\/envoyproxy\/go-control-plane\/envoy v1\.(\d+)\./.exec(gomod)?.[1];
  const image = /^envoyproxy\/envoy:v1\.(\d+)-/.exec(IMAGES.envoy)?.[1];
  assert.ok(api && image, `${IMAGES.envoy} / go.mod`);
  assert.equal(api, image, `go-control-plane 1.${api} validates, Envoy 1.${image} runs`);
});
