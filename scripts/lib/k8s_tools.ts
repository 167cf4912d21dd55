/**
 * The tools the offline validation of the deployments uses (deploy/k8s/validate.ts,
 * deploy/envoy/validate_test.ts): kubeconform and — where kubectl is missing — kustomize from the
 * Go module proxy, the Envoy validator (deploy/envoy/validate, Go, on go-control-plane) and the
 * Kubernetes schemas of the PyPI package kubernetes-validate. `deno task test` installs them
 * before the tests run ({@linkcode ensureK8sTools}); the tests only find them
 * ({@linkcode k8sTool}), so that no test installs anything.
 * @module
 */
import { join } from "node:path";
import type { Progress } from "../infra/process.ts";
import { ROOT } from "./paths.ts";
import {
  goBuild,
  goBuildTarget,
  goInstall,
  goInstallTarget,
  installed,
  pypiFiles,
  pypiFilesTarget,
} from "./tools.ts";

/** Kubernetes versions validated against: the oldest the manifests need, and the newest known. */
export const KUBERNETES_VERSIONS = ["1.30.0", "1.37.0"] as const;

/** The pinned tools: {@linkcode K8S_TOOLS}. */
export interface K8sTools {
  kubeconform: { pkg: string; version: string };
  kustomize: { pkg: string; version: string };
  envoyValidator: { dir: string; name: string };
  kubernetesValidate: { requirement: string; members: readonly string[] };
}

/** The pinned tools. */
export const K8S_TOOLS: K8sTools = {
  kubeconform: { pkg: "github.com/yannh/kubeconform/cmd/kubeconform", version: "v0.8.0" },
  /** Used only where kubectl is missing; v5.8 needs Go 1.27. */
  kustomize: { pkg: "sigs.k8s.io/kustomize/kustomize/v5", version: "v5.7.1" },
  /** The Envoy validator, a Go module of ours. */
  envoyValidator: { dir: join(ROOT, "deploy", "envoy", "validate"), name: "envoy-validate" },
  /** The core kinds' schemas, of each of {@linkcode KUBERNETES_VERSIONS} (its strict folders). */
  kubernetesValidate: {
    requirement: "kubernetes-validate==1.37.0",
    members: KUBERNETES_VERSIONS.map(schemaFolderOf),
  },
};

/** The folder of a Kubernetes version's strict schemas inside the kubernetes-validate wheel. */
export function schemaFolderOf(version: string): string {
  return `kubernetes_validate/kubernetes-json-schema/v${version}-local-strict/`;
}

/** Whether `kubectl kustomize` is there to render kustomizations. */
export async function hasKubectl(): Promise<boolean> {
  try {
    return (await new Deno.Command("kubectl", {
      args: ["version", "--client"],
      stdout: "null",
      stderr: "null",
    }).output()).success;
  } catch {
    return false; // not installed
  }
}

/**
 * Installs what is missing of the validation tools, one after the other (each build takes a
 * core), saying what it does; instant when everything is there.
 */
export async function ensureK8sTools(say: Progress): Promise<void> {
  await goInstall({ ...K8S_TOOLS.kubeconform, say });
  if (!(await hasKubectl())) await goInstall({ ...K8S_TOOLS.kustomize, say });
  await goBuild({ ...K8S_TOOLS.envoyValidator, say });
  await pypiFiles({ ...K8S_TOOLS.kubernetesValidate, say });
}

/**
 * The path of an installed validation tool (the schemas: the folder they were extracted into).
 *
 * @throws When it is not installed, saying that `deno task test` installs it.
 */
export async function k8sTool(
  tool: "kubeconform" | "kustomize" | "envoyValidator" | "kubernetesValidate",
): Promise<string> {
  switch (tool) {
    case "kubeconform":
    case "kustomize": {
      const t = K8S_TOOLS[tool];
      return await installed(goInstallTarget(t), `${tool} ${t.version}`);
    }
    case "envoyValidator":
      return await installed(
        await goBuildTarget(K8S_TOOLS.envoyValidator),
        "the Envoy validator (this version of deploy/envoy/validate)",
      );
    case "kubernetesValidate": {
      const { out, marker } = await pypiFilesTarget(K8S_TOOLS.kubernetesValidate);
      await installed(marker, `the schemas of ${K8S_TOOLS.kubernetesValidate.requirement}`);
      return out;
    }
  }
}
