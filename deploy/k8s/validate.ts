/**
 * Offline validation of the Kubernetes manifests: `kubectl kustomize` renders a kustomization
 * (or kustomize from the Go module proxy where kubectl is missing), and kubeconform validates
 * every object strictly (unknown fields, wrong types, duplicate keys) — core kinds against the
 * schemas the PyPI package kubernetes-validate bundles, custom resources against the CRD schemas
 * in deploy/k8s/schemas/ — for the oldest and the newest Kubernetes the manifests target.
 *
 * `deno task test` installs the tools into .stocklet/ before the tests run
 * (scripts/lib/k8s_tools.ts; of kubernetes-validate only the schema folders of those versions are
 * extracted from its wheel); here they are only found. The schemas are prepared there once: kubernetes-validate's files `$ref` a shared
 * `_definitions.json`, which kubeconform does not resolve, so each needed kind gets a standalone
 * copy with the definitions it uses inlined; the CRD schemas get a closed top level and
 * Kubernetes' own ObjectMeta, which the CRDs leave open.
 *
 * @example
 * ```ts
 * const objects = await kustomizeBuild("deploy/k8s/overlays/prod");
 * const report = await kubeconform(objects, "1.30.0");
 * report.invalid; // [] when every object validates
 * ```
 * @module
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { STATE_DIR } from "@stocklet/scripts/paths";
import {
  hasKubectl,
  k8sTool,
  KUBERNETES_VERSIONS,
  schemaFolderOf,
} from "@stocklet/scripts/k8s_tools";

const HERE = dirname(fileURLToPath(import.meta.url));

/** The vendored custom resource schemas: `{group}/{kind}_{version}.json`. */
export const CRD_SCHEMAS: string = join(HERE, "schemas");

export { KUBERNETES_VERSIONS };

/** A rendered object, enough to name it. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

async function output(cmd: string, args: string[], stdin?: string): Promise<{
  ok: boolean;
  stdout: string;
  stderr: string;
}> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { ok: out.success, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

let kustomizer: Promise<string[]> | undefined;

/** `kubectl kustomize` if kubectl is installed, else `kustomize build` (installed with Go). */
function kustomizeCommand(): Promise<string[]> {
  return kustomizer ??= (async () => {
    if (await hasKubectl()) return ["kubectl", "kustomize"];
    return [await k8sTool("kustomize"), "build"];
  })();
}

/** Renders a kustomization folder to its YAML stream; throws with kustomize's message. */
export async function kustomizeYaml(dir: string): Promise<string> {
  const [cmd, ...args] = await kustomizeCommand();
  const out = await output(cmd!, [...args, dir]);
  if (!out.ok) throw new Error(`${cmd} ${args.join(" ")} ${dir} failed:\n${out.stderr.trim()}`);
  return out.stdout;
}

/** Renders a kustomization folder to its objects. */
export async function kustomizeBuild(dir: string): Promise<K8sObject[]> {
  return parseYamlStream(await kustomizeYaml(dir));
}

/** The objects of a YAML stream (empty documents skipped). */
export function parseYamlStream(text: string): K8sObject[] {
  return parseAllDocuments(text).map((d) => d.toJS() as K8sObject | null).filter((o) =>
    o !== null
  ) as K8sObject[];
}

// ---------------------------------------------------------------------------------------------
// Schemas.

type Json = Record<string, unknown>;

const PREPARED = join(STATE_DIR, "k8s-schemas", "v2");

/**
 * `apps/v1` → `-apps-v1`, `rbac.authorization.k8s.io/v1` → `-rbac-v1`, `v1` → `-v1`:
 * kubeconform's (and the package's) file suffix, the group's first label.
 */
export function kindFile(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const suffix = group ? `${group!.split(".")[0]}-${version}` : version;
  return `${kind.toLowerCase()}-${suffix}.json`;
}

function refsIn(node: unknown, into: Set<string>): void {
  if (Array.isArray(node)) {
    for (const x of node) refsIn(x, into);
  } else if (node && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      if (k === "$ref" && typeof v === "string") {
        const m = /#\/\$defs\/(.+)$/.exec(v);
        if (m) into.add(m[1]!);
      } else refsIn(v, into);
    }
  }
}

/** A schema with the definitions it reaches inlined as `$defs` and its refs made local. */
export function standalone(schema: Json, definitions: Record<string, unknown>): Json {
  const local = JSON.parse(JSON.stringify(schema).replaceAll('"/api/_definitions.json#', '"#'));
  const needed = new Set<string>();
  const queue: string[] = [];
  const roots = new Set<string>();
  refsIn(local, roots);
  queue.push(...roots);
  while (queue.length) {
    const name = queue.pop()!;
    if (needed.has(name)) continue;
    const def = definitions[name];
    if (def === undefined) throw new Error(`schema refers to unknown definition ${name}`);
    needed.add(name);
    const next = new Set<string>();
    refsIn(def, next);
    queue.push(...[...next].filter((n) => !needed.has(n)));
  }
  return {
    ...local,
    $defs: Object.fromEntries([...needed].sort().map((n) => [n, definitions[n]])),
  };
}

/** The core kinds' schema folder of a Kubernetes version, with the given kinds prepared. */
async function coreSchemas(version: string, kinds: Array<[string, string]>): Promise<string> {
  const out = join(PREPARED, "core", `v${version}`);
  const missing = [];
  for (const [apiVersion, kind] of kinds) {
    if (!(await Deno.stat(join(out, kindFile(apiVersion, kind))).catch(() => null))) {
      missing.push([apiVersion, kind] as const);
    }
  }
  if (!missing.length) return out;
  const src = join(await k8sTool("kubernetesValidate"), schemaFolderOf(version));
  const definitions = (JSON.parse(await Deno.readTextFile(join(src, "_definitions.json"))) as {
    $defs: Record<string, unknown>;
  }).$defs;
  await Deno.mkdir(out, { recursive: true });
  for (const [apiVersion, kind] of missing) {
    const name = kindFile(apiVersion, kind);
    const text = await Deno.readTextFile(join(src, name)).catch(() => null);
    if (text === null) continue; // kubeconform then reports the kind as unknown
    const tmp = join(out, `.${name}.${crypto.randomUUID()}`);
    await Deno.writeTextFile(tmp, JSON.stringify(standalone(JSON.parse(text), definitions)));
    await Deno.rename(tmp, join(out, name));
  }
  return out;
}

/**
 * A CRD schema made as strict as a core one: nothing unknown at the top level, and `metadata`
 * checked as Kubernetes' ObjectMeta (the CRDs say only `type: object`).
 */
export function closedCrdSchema(schema: Json, objectMeta: Json): Json {
  const props = { ...(schema.properties as Json) };
  props.metadata = objectMeta;
  return { ...schema, properties: props, additionalProperties: false };
}

async function crdSchemas(version: string): Promise<string> {
  const out = join(PREPARED, "crds", `v${version}`);
  const stamp = join(out, ".source");
  const source = await crdSourceStamp();
  if ((await Deno.readTextFile(stamp).catch(() => "")) === source) return out;
  const core = await coreSchemas(version, [["v1", "ConfigMap"]]);
  const configMap = JSON.parse(await Deno.readTextFile(join(core, kindFile("v1", "ConfigMap"))));
  const objectMeta = {
    $ref: "#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
  };
  const defs = configMap.$defs as Json;
  await Deno.remove(out, { recursive: true }).catch(() => {});
  for await (const group of Deno.readDir(CRD_SCHEMAS)) {
    if (!group.isDirectory) continue;
    await Deno.mkdir(join(out, group.name), { recursive: true });
    for await (const f of Deno.readDir(join(CRD_SCHEMAS, group.name))) {
      if (!f.name.endsWith(".json")) continue;
      const schema = JSON.parse(await Deno.readTextFile(join(CRD_SCHEMAS, group.name, f.name)));
      const closed = { ...closedCrdSchema(schema, objectMeta), $defs: defs };
      await Deno.writeTextFile(join(out, group.name, f.name), JSON.stringify(closed));
    }
  }
  await Deno.writeTextFile(stamp, source);
  return out;
}

/** Names and sizes of the vendored CRD schemas: prepared copies are redone when they change. */
async function crdSourceStamp(): Promise<string> {
  const parts: string[] = [];
  for await (const group of Deno.readDir(CRD_SCHEMAS)) {
    if (!group.isDirectory) continue;
    for await (const f of Deno.readDir(join(CRD_SCHEMAS, group.name))) {
      const st = await Deno.stat(join(CRD_SCHEMAS, group.name, f.name));
      parts.push(`${group.name}/${f.name}:${st.size}:${st.mtime?.getTime()}`);
    }
  }
  return parts.sort().join("\n");
}

// ---------------------------------------------------------------------------------------------
// kubeconform.

/** One object kubeconform rejected, with why. */
export interface Invalid {
  object: string;
  status: string;
  msg: string;
}

/** What kubeconform said about a set of objects. */
export interface ValidationReport {
  version: string;
  valid: number;
  invalid: Invalid[];
}

/** Whether an API version is Kubernetes' own (`v1`, `apps/v1`, `networking.k8s.io/v1`). */
function isCore(apiVersion: string): boolean {
  const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
  return !group.includes(".") || group.endsWith(".k8s.io");
}

/**
 * Validates objects strictly with kubeconform for one Kubernetes version.
 *
 * @param objects Rendered objects (e.g. from {@linkcode kustomizeBuild}).
 * @param version A Kubernetes version, `1.30.0`.
 */
export async function kubeconform(
  objects: readonly K8sObject[],
  version: string,
): Promise<ValidationReport> {
  const bin = await k8sTool("kubeconform");
  const coreKinds = [
    ...new Map(
      objects.filter((o) => isCore(o.apiVersion)).map((o) => [`${o.apiVersion}/${o.kind}`, [
        o.apiVersion,
        o.kind,
      ] as [string, string]]),
    ).values(),
  ];
  const core = await coreSchemas(version, coreKinds);
  const crds = await crdSchemas(version);
  const stream = objects.map((o) => JSON.stringify(o)).join("\n---\n");
  const out = await output(bin, [
    "-strict",
    "-output",
    "json",
    "-kubernetes-version",
    version,
    "-schema-location",
    `${core}/{{ .ResourceKind }}{{ .KindSuffix }}.json`,
    "-schema-location",
    `${crds}/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json`,
    "-",
  ], stream);
  let parsed: { resources?: Array<{ kind: string; name: string; status: string; msg: string }> };
  try {
    parsed = JSON.parse(out.stdout);
  } catch {
    throw new Error(`kubeconform gave no report:\n${out.stdout}${out.stderr}`);
  }
  // Without -verbose, kubeconform lists the objects that are not valid only.
  const invalid = (parsed.resources ?? []).map((r) => ({
    object: `${r.kind}/${r.name}`,
    status: r.status.replace(/^status/, "").toLowerCase(),
    msg: r.msg,
  }));
  return { version, valid: objects.length - invalid.length, invalid };
}
