/**
 * Test fixtures for the edge: fake upstreams standing in for the services, and a closed port.
 * Tokens come from `@stocklet/testing/tokens`.
 * @module
 */
import { type ServiceName, SERVICES } from "@stocklet/shared/topology";

/** One request a fake upstream received. */
export interface SeenRequest {
  service: ServiceName;
  method: string;
  /** Path and query. */
  url: string;
  headers: Headers;
  body: string;
}

/** How a fake upstream answers (default: 200 JSON naming the service and the path). */
export type UpstreamReply = (req: SeenRequest) => Response | Promise<Response>;

/** Fake services on ephemeral ports. */
export interface FakeUpstreams {
  /** Base URL of each service. */
  urls: Record<ServiceName, string>;
  /** Every request received, in order. */
  seen: SeenRequest[];
  /** Replaces the answer of every upstream (undefined restores the default). */
  reply: UpstreamReply | undefined;
  close(): Promise<void>;
}

/** Starts one fake upstream per service. */
export function fakeUpstreams(): FakeUpstreams {
  const servers: Deno.HttpServer[] = [];
  const urls = {} as Record<ServiceName, string>;
  const fakes: FakeUpstreams = {
    urls,
    seen: [],
    reply: undefined,
    async close() {
      await Promise.all(servers.map((s) => s.shutdown()));
    },
  };
  for (const spec of SERVICES) {
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      const u = new URL(req.url);
      const seen: SeenRequest = {
        service: spec.name,
        method: req.method,
        url: u.pathname + u.search,
        headers: new Headers(req.headers),
        body: await req.text(),
      };
      fakes.seen.push(seen);
      if (fakes.reply) return await fakes.reply(seen);
      return Response.json({ service: spec.name, url: seen.url }, {
        headers: { "x-upstream": spec.name },
      });
    });
    servers.push(server);
    urls[spec.name] = `http://127.0.0.1:${server.addr.port}`;
  }
  return fakes;
}

/** A local port nothing listens on (bound, then released). */
export function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** An upstream that takes requests and drops each connection without answering (it "died"). */
export interface DroppingUpstream {
  url: string;
  /** Requests it read (and dropped). */
  received(): number;
  close(): void;
}

/** Starts a {@linkcode DroppingUpstream}: it reads a request's first bytes, then closes. */
export function droppingUpstream(): DroppingUpstream {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let received = 0;
  (async () => {
    for await (const conn of listener) {
      (async () => {
        const buf = new Uint8Array(4096);
        const n = await conn.read(buf).catch(() => null);
        if (n) received++;
        conn.close();
      })();
    }
  })().catch(() => {});
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    received: () => received,
    close: () => listener.close(),
  };
}
