/**
 * The stack's collector as a process of its own (the test stack runs it detached beside the
 * services; `deno task dev` runs the same collector inside its own process):
 * `deno run -A scripts/collector.ts [--profile dev|test] [--zipkin URL]`. It listens on the
 * profile's collector port and stores spans in the profile's Postgres (see trace/collector.ts).
 */
import { parseArgs } from "node:util";
import { infraConfig, type InfraProfile, pgUrlOf } from "./infra/config.ts";
import { collectorPort } from "./stack/config.ts";
import { startTraceCollector } from "./trace/collector.ts";

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { profile: { type: "string", default: "test" }, zipkin: { type: "string" } },
  });
  const profile = values.profile as InfraProfile;
  const port = collectorPort(profile);
  const collector = await startTraceCollector(port, pgUrlOf(infraConfig(profile), "postgres"), {
    ...(values.zipkin ? { zipkinUrl: values.zipkin } : {}),
  });
  console.error(
    `collector on :${port} (OTLP/HTTP JSON; spans → Postgres "traces"; metrics in memory)`,
  );
  const stop = async () => {
    await collector.stop();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}
