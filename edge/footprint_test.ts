import assert from "node:assert/strict";

/**
 * The edge loads only what it uses: it proxies HTTP, so the service kit's gRPC, Kafka, PostgreSQL
 * and protovalidate runtimes (about 15 MiB of RSS and 10 MiB of V8 heap together, measured) must
 * not come in through a barrel module.
 */
Deno.test("the edge's module graph holds no gRPC, Kafka, PostgreSQL or validator runtime", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL("./main.ts", import.meta.url).pathname],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert.ok(out.success, "deno info ran");
  const graph = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: Array<{ specifier: string }>;
  };
  const specifiers = graph.modules.map((m) => m.specifier);
  assert.ok(specifiers.some((s) => s.includes("jose")), "the graph was read (jose is in it)");
  const heavy = specifiers.filter((s) =>
    /npm:\/(@grpc\/grpc-js|kafkajs|postgres)@|npm:\/@bufbuild\/protovalidate@[^/]+$/.test(s)
  );
  assert.deepEqual(heavy, []);
});
