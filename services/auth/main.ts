/**
 * The auth service: issues ES256 access tokens and publishes the JWKS that verifies them. It has no
 * outbox and no consumer; credentials are checked by the user service over gRPC.
 * Config → database → signing key → servers.
 * @module
 */
import { jwksVerifier } from "@stocklet/shared/auth";
import { int, loadConfig, str } from "@stocklet/shared/config";
import { connectDb } from "@stocklet/shared/db";
import { setupLogging } from "@stocklet/shared/logging";
import { user } from "@stocklet/shared/proto";
import { grpcClient } from "@stocklet/shared/server";
import { commonConfig, startService } from "@stocklet/shared/service";
import { serviceSpec } from "@stocklet/shared/topology";
import { authRpc } from "./rpc.ts";
import { resolveSigningKey } from "./store.ts";
import { DEFAULT_TTL_SECONDS } from "./tokens.ts";

if (import.meta.main) {
  const config = loadConfig({
    ...commonConfig("auth"),
    privateKey: str("AUTH_PRIVATE_KEY", { default: "" }),
    tokenTtlSeconds: int("AUTH_TOKEN_TTL_SECONDS", {
      default: DEFAULT_TTL_SECONDS,
      min: 60,
      max: 2 ** 31 - 1, // AuthToken.expires_in is an int32
    }),
    userGrpcAddr: str("USER_GRPC_ADDR", {
      default: `127.0.0.1:${serviceSpec("user").grpcPort}`,
    }),
  });
  setupLogging("auth");
  const sql = connectDb(config.databaseUrl);
  const key = await resolveSigningKey(sql, config.privateKey);
  const users = grpcClient(user.UserInternalService, config.userGrpcAddr);
  await startService({
    name: "auth",
    config,
    sql,
    bindings: [authRpc({ key, users, ttlSeconds: config.tokenTtlSeconds })],
    // Auth's own protected route (SetPassword) checks tokens against its own public key in hand,
    // not over HTTP to itself.
    verifier: jwksVerifier({ jwks: { keys: [{ ...key.publicJwk }] } }),
    onStopped: () => Promise.resolve(users.close()),
  });
}
