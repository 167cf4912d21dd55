import assert from "node:assert/strict";
import { user } from "../proto.ts";
import { grpcClient, grpcTarget } from "./grpc_client.ts";

Deno.test("grpcTarget: one address as it is, a list of IPs as one ipv4/ipv6 target", () => {
  assert.equal(grpcTarget("user:9196"), "user:9196");
  assert.equal(grpcTarget("127.0.0.1:9196"), "127.0.0.1:9196");
  assert.equal(
    grpcTarget("127.0.0.1:9196, 127.0.0.1:9246"),
    "ipv4:127.0.0.1:9196,127.0.0.1:9246",
  );
  assert.equal(grpcTarget("[::1]:9196,[::1]:9246"), "ipv6:[::1]:9196,[::1]:9246");
  assert.throws(() => grpcTarget("user-0:9196,user-1:9196"), /headless/);
});

/**
 * A replica in its own process (a server shut down in the client's own process can stall Deno's
 * HTTP/2 client, which real replicas never share).
 */
async function replica(name: string): Promise<{ port: number; process: Deno.ChildProcess }> {
  const process = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./testdata/info_server.ts", import.meta.url).pathname, name],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = process.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`replica ${name} exited before it listened`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  await process.stdout.cancel();
  return { port: Number(text.trim()), process };
}

function stop(r: { process: Deno.ChildProcess }): Promise<Deno.CommandStatus> {
  try {
    r.process.kill("SIGKILL");
  } catch { /* already gone */ }
  return r.process.status;
}

Deno.test("grpcClient: calls go round robin over a list of replicas, past one that died", async () => {
  const a = await replica("a");
  const b = await replica("b");
  const client = grpcClient(user.UserService, `127.0.0.1:${a.port},127.0.0.1:${b.port}`);
  try {
    const names = [];
    for (let i = 0; i < 6; i++) names.push((await client.serviceInfo({})).name);
    assert.deepEqual(new Set(names), new Set(["a", "b"]), `both replicas answer: ${names}`);

    await stop(a);
    const after = [];
    for (let i = 0; i < 6; i++) after.push((await client.serviceInfo({})).name);
    assert.deepEqual(after, ["b", "b", "b", "b", "b", "b"]);
  } finally {
    client.close();
    await stop(a);
    await stop(b);
  }
});
