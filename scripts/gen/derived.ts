/** Files derived from the contracts (and the code's subscriptions) that `deno task gen` writes. */
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { commentsOf, renderEnvoyYaml, renderOpenApi } from "@stocklet/edge";
import { ROOT, STATE_DIR, TOOLS_BIN } from "../lib/paths.ts";
import { run } from "../lib/run.ts";
import {
  renderComposeOverrideYaml,
  renderComposeYaml,
  renderConnectWorkerProperties,
  renderEnvExample,
} from "./compose.ts";
import { renderEventCatalogue } from "./event_catalogue.ts";
import { k8sFiles } from "./k8s/mod.ts";
import { dashboardPath, DASHBOARDS, renderDashboard } from "./grafana.ts";

/** One generated file. */
export interface DerivedArtifact {
  /** Path relative to the repository root. */
  path: string;
  /** Renders the file's full text. */
  render(): Promise<string>;
}

/**
 * The proto comments by full name, from a `buf build` image (the generated descriptors carry no
 * source info). Runs after gen has fetched the third-party protos.
 */
async function protoComments(): Promise<Map<string, string>> {
  const tmp = await Deno.makeTempDir({ prefix: "stocklet-image-" });
  try {
    const image = join(tmp, "image.binpb");
    await run(join(TOOLS_BIN, "buf"), ["build", "--as-file-descriptor-set", "-o", image], {
      cwd: ROOT,
      env: { BUF_CACHE_DIR: join(STATE_DIR, "buf-cache") },
    });
    return commentsOf(fromBinary(FileDescriptorSetSchema, await Deno.readFile(image)).file);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

/** Every derived file. */
export const derivedArtifacts: DerivedArtifact[] = [
  // The public API: every annotated route, schemas in proto3 JSON (served by the edge).
  {
    path: "docs/openapi.json",
    render: async () => renderOpenApi({ comments: await protoComments() }),
  },
  // The deployment's edge, from the same route table and rules as the local edge.
  { path: "deploy/envoy/envoy.yaml", render: () => Promise.resolve(renderEnvoyYaml()) },
  // Every topic, its message, producer and consumers, from the protos and the subscriptions.
  {
    path: "docs/events.md",
    render: async () => renderEventCatalogue({ comments: await protoComments() }),
  },
  // The docker compose deployment, from the topology and the local infrastructure's settings.
  { path: "deploy/docker/compose.yaml", render: renderComposeYaml },
  { path: "deploy/docker/compose.override.yaml", render: renderComposeOverrideYaml },
  {
    path: "deploy/docker/connect/worker.properties",
    render: () => Promise.resolve(renderConnectWorkerProperties()),
  },
  { path: "deploy/docker/.env.example", render: () => Promise.resolve(renderEnvExample()) },
  // The Kubernetes deployment (kustomize base, database components, overlays), from the same
  // topology, topics and local settings.
  ...k8sFiles(),
  // The compose deployment's Grafana dashboards, from the instruments' Prometheus names.
  ...DASHBOARDS.map((d) => ({ path: dashboardPath(d), render: () => renderDashboard(d) })),
];
