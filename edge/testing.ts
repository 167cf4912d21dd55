/**
 * Test fixtures for the edge: fake upstreams standing in for the services, and tokens of every
 * kind (valid, expired, tampered, unsigned, from another key).
 * @module
 */
import {
  jwksVerifier,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
  type TokenVerifier,
} from "@stocklet/shared/auth";
import { type ServiceName, SERVICES } from "@stocklet/shared/topology";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";

/** Claims and header overrides for {@linkcode TokenKit.sign}. */
export interface SignOptions {
  sub?: string;
  roles?: string[];
  /** Expiry (seconds since the epoch). @default now + 300 */
  exp?: number;
  /** Issued at (seconds since the epoch). @default now */
  iat?: number;
  iss?: string;
  aud?: string;
}

/** A signing key with the verifier that trusts it. */
export interface TokenKit {
  verifier: TokenVerifier;
  jwk: JWK;
  sign(opts?: SignOptions): Promise<string>;
}

/** A fresh ES256 key, a verifier over its JWKS and a signer with full control of the claims. */
export async function tokenKit(): Promise<TokenKit> {
  const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: "edge-test", alg: "ES256", use: "sig" };
  return {
    jwk,
    verifier: jwksVerifier({ jwks: { keys: [jwk] } }),
    sign(opts: SignOptions = {}): Promise<string> {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ roles: opts.roles ?? ["customer"] })
        .setProtectedHeader({ alg: "ES256", kid: "edge-test" })
        .setSubject(opts.sub ?? "0190c1d2-0000-7000-8000-000000000001")
        .setIssuer(opts.iss ?? TOKEN_ISSUER)
        .setAudience(opts.aud ?? TOKEN_AUDIENCE)
        .setIssuedAt(opts.iat ?? now)
        .setExpirationTime(opts.exp ?? now + 300)
        .sign(privateKey);
    },
  };
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
