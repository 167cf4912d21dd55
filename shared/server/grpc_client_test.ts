import assert from "node:assert/strict";
import { user } from "../proto.ts";
import { channelOptions, grpcClient, grpcTarget } from "./grpc_client.ts";

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

Deno.test("channelOptions: reads (GET, or marked without side effects) retry a failed replica, writes never", () => {
  const config = (desc: Parameters<typeof channelOptions>[0]) =>
    JSON.parse(channelOptions(desc)["grpc.service_config"] as string);
  const users = config(user.UserService);
  assert.deepEqual(users.loadBalancingConfig, [{ round_robin: {} }]);
  const retried = users.methodConfig[0].name.map((n: { method: string }) => n.method);
  // The two GET routes; RegisterUser (a POST) is not retried.
  assert.deepEqual(retried, ["ServiceInfo", "ViewUser"]);
  assert.deepEqual(users.methodConfig[0].retryPolicy.retryableStatusCodes, [
    "UNAVAILABLE",
    "INTERNAL",
  ]);
  assert.ok(
    users.methodConfig[0].name.every((n: { service: string }) =>
      n.service === user.UserService.typeName
    ),
  );
  // No GET route and nothing marked: round robin only.
  assert.equal(config(user.UserInternalService).methodConfig, undefined);
});
