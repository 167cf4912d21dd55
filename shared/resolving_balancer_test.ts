import assert from "node:assert/strict";
import { ResolvingBalancer } from "./resolving_balancer.ts";

/** A resolver answering from a table that the test changes, counting its questions. */
function table(entries: Record<string, string[]>) {
  const asked: string[] = [];
  return {
    entries,
    asked,
    resolve: (host: string) => {
      asked.push(host);
      const a = entries[host];
      return a ? Promise.resolve([...a]) : Promise.reject(new Error(`NXDOMAIN ${host}`));
    },
  };
}

async function take(b: ResolvingBalancer, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(await b.next());
  return out;
}

Deno.test("ResolvingBalancer goes round robin over every address of a name, port and path kept", async () => {
  const dns = table({ order: ["10.0.0.8", "10.0.0.7", "fd00::9"] });
  const b = new ResolvingBalancer(["http://order:8092/"], { resolve: dns.resolve, now: () => 0 });
  assert.deepEqual(await take(b, 4), [
    "http://10.0.0.7:8092",
    "http://10.0.0.8:8092",
    "http://[fd00::9]:8092",
    "http://10.0.0.7:8092",
  ]);
  assert.equal(b.attempts, 3);
  // Once per refresh period, not per call.
  assert.deepEqual(dns.asked, ["order"]);
  const withPath = new ResolvingBalancer(["http://gw:8080/api"], {
    resolve: () => Promise.resolve(["10.0.0.1"]),
  });
  assert.equal(await withPath.next(), "http://10.0.0.1:8080/api");
});

Deno.test("ResolvingBalancer follows the name: a pod that joins gets calls, one that left none", async () => {
  let now = 0;
  const dns = table({ order: ["10.0.0.1"] });
  const b = new ResolvingBalancer(["http://order:8092"], {
    resolve: dns.resolve,
    refreshMs: 5_000,
    now: () => now,
  });
  assert.deepEqual(await take(b, 2), ["http://10.0.0.1:8092", "http://10.0.0.1:8092"]);
  dns.entries.order = ["10.0.0.2", "10.0.0.3"];
  now = 4_999;
  assert.equal(await b.next(), "http://10.0.0.1:8092", "not yet due");
  now = 5_000;
  // Due: this call still uses the addresses at hand while the refresh runs.
  assert.equal(await b.next(), "http://10.0.0.1:8092");
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(
    new Set(await take(b, 4)),
    new Set(["http://10.0.0.2:8092", "http://10.0.0.3:8092"]),
  );
  assert.deepEqual(dns.asked, ["order", "order"]);
});

Deno.test("ResolvingBalancer calls addresses, https and unknown names as they are", async () => {
  const dns = table({});
  const b = new ResolvingBalancer(
    [
      "http://127.0.0.1:8092",
      "http://[::1]:8093",
      "https://order.example:443",
      "http://localhost:8094",
    ],
    { resolve: dns.resolve },
  );
  assert.deepEqual(await take(b, 4), [
    "http://127.0.0.1:8092",
    "http://[::1]:8093",
    "https://order.example:443",
    "http://localhost:8094",
  ]);
  // Only the plain-HTTP name was looked up (and, unknown, is called by its name).
  assert.deepEqual(dns.asked, ["localhost"]);
});

Deno.test("ResolvingBalancer skips an address that refused a connection, for a while", async () => {
  let now = 0;
  const b = new ResolvingBalancer(["http://order:8092"], {
    resolve: () => Promise.resolve(["10.0.0.1", "10.0.0.2"]),
    refreshMs: 60_000,
    downForMs: 1_000,
    now: () => now,
  });
  assert.equal(await b.next(), "http://10.0.0.1:8092");
  b.refused("http://10.0.0.1:8092");
  assert.deepEqual(await take(b, 3), [
    "http://10.0.0.2:8092",
    "http://10.0.0.2:8092",
    "http://10.0.0.2:8092",
  ]);
  now = 1_001;
  assert.deepEqual(
    new Set(await take(b, 2)),
    new Set(["http://10.0.0.1:8092", "http://10.0.0.2:8092"]),
  );
});
