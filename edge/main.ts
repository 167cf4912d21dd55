/**
 * The local edge: the one door to Stocklet on a developer's machine, with the same routes and
 * rules as the Envoy of the deployment (deploy/envoy/envoy.yaml). Config → routes → server.
 * @module
 */
import { setupLogging } from "@stocklet/shared/logging";
import { watchProcess } from "@stocklet/shared/metrics/process";
import { trimNativeHeapEvery } from "@stocklet/shared/native_heap";
import { loadEdgeConfig } from "./config.ts";
import { startEdge } from "./server.ts";

if (import.meta.main) {
  const config = loadEdgeConfig();
  setupLogging("edge");
  watchProcess("edge");
  trimNativeHeapEvery();
  const edge = await startEdge(config);
  const stop = async (): Promise<void> => {
    await edge.stop();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}
