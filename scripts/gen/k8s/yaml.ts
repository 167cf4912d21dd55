/**
 * Writing manifests as YAML that Kubernetes reads back unchanged: Kubernetes' parser follows
 * YAML 1.1, where `on`, `yes` or `y` are booleans, so strings are quoted by 1.1 rules.
 * @module
 */
import { Document } from "yaml";
import { denoFmt } from "../fmt.ts";

/** A Kubernetes object, a kustomization or a patch, as plain data. */
export type Manifest = Record<string, unknown>;

/** One YAML document, quoted for YAML 1.1 readers. */
export function yamlDocument(value: unknown): string {
  return new Document(value, { version: "1.1", aliasDuplicateObjects: false }).toString({
    lineWidth: 0,
  });
}

/**
 * A generated YAML file: a comment header (each line prefixed with `# `), then the documents
 * separated by `---`, formatted as `deno fmt` would.
 *
 * @example
 * ```ts
 * await renderYaml(["GENERATED"], [{ apiVersion: "v1", kind: "Namespace" }]);
 * // "# GENERATED\napiVersion: v1\nkind: Namespace\n"
 * ```
 */
export async function renderYaml(
  header: readonly string[],
  docs: readonly unknown[],
): Promise<string> {
  const head = header.map((l) => (l ? `# ${l}` : "#")).join("\n");
  const body = docs.map(yamlDocument).join("---\n");
  return await denoFmt(`${head}\n${body}`, "yaml");
}
