/**
 * Test fixtures for the edge: fake upstreams standing in for the services, and tokens of every
 * kind (valid, expired, tampered, unsigned, from another key).
 * @module
 */
import { type SignOptions, testKeys } from "@stocklet/shared/server/testing";
import type { TokenVerifier } from "@stocklet/shared/auth";
import { type ServiceName, SERVICES } from "@stocklet/shared/topology";
import type { JWK } from "jose";

export type { SignOptions };

/** A signing key with the verifier that trusts it. */
export interface TokenKit {
  verifier: TokenVerifier;
  jwk: JWK;
  sign(opts?: SignOptions): Promise<string>;
}

/** A fresh ES256 key, a verifier over its JWKS and a signer with full control of the claims. */
export async function tokenKit(): Promise<TokenKit> {
  const keys = await testKeys();
  return { verifier: keys.verifier, jwk: keys.jwk, sign: (opts) => keys.signWith(opts) };
}

function b64url(text: string): string {
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** An unsigned (`alg: none`) token with the given claims. */
export function unsignedToken(claims: Record<string, unknown>): string {
  return `${b64url(JSON.stringify({ alg: "none", typ: "JWT" }))}.${
    b64url(JSON.stringify(claims))
  }.`;
}

/** A token whose payload was changed after signing (the signature no longer matches). */
export function tamper(token: string, claims: Record<string, unknown>): string {
  const [header, payload, signature] = token.split(".");
  const decoded = JSON.parse(atob(payload!.replace(/-/g, "+").replace(/_/g, "/")));
  return `${header}.${b64url(JSON.stringify({ ...decoded, ...claims }))}.${signature}`;
}

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
