/**
 * The auth service: issues ES256 access tokens and publishes the keys that verify them and the
 * credentials a password change revoked. It has no outbox and no consumer; credentials are
 * checked by the user service over gRPC.
 * Config → database → key ring (`prepare`) → servers (+ the key ring's reload every 30 s).
 * @module
 */
import { int, str } from "@stocklet/shared/config";
import { user } from "@stocklet/shared/proto";
import { grpcClient } from "@stocklet/shared/server";
import { type BackgroundTask, pause, runService } from "@stocklet/shared/service";
import { serviceSpec } from "@stocklet/shared/topology";
import { type KeyRing, openKeyRing } from "./key_ring.ts";
import { authRpc, authVerifier } from "./rpc.ts";
import { DEFAULT_TTL_SECONDS } from "./tokens.ts";

/** How often an instance reloads its keys (and rotates them when due). */
const KEY_RELOAD_MS = 30_000;

/** Reloads the key ring every {@linkcode KEY_RELOAD_MS} (another instance may have rotated it). */
function keyReloader(keys: KeyRing): BackgroundTask {
  return async (signal) => {
    while (!signal.aborted) {
      await pause(KEY_RELOAD_MS, signal);
      if (!signal.aborted) await keys.refresh();
    }
  };
}

if (import.meta.main) {
  await runService("auth", {
    config: {
      privateKey: str("AUTH_PRIVATE_KEY", { default: "" }),
      tokenTtlSeconds: int("AUTH_TOKEN_TTL_SECONDS", {
        default: DEFAULT_TTL_SECONDS,
        min: 60,
        max: 2 ** 31 - 1, // AuthToken.expires_in is an int32
      }),
      keyRotationDays: int("AUTH_KEY_ROTATION_DAYS", { default: 30, min: 0, max: 3650 }),
      userGrpcAddr: str("USER_GRPC_ADDR", {
        default: `127.0.0.1:${serviceSpec("user").grpcPort}`,
      }),
    },
    prepare: async (sql, config) => ({
      keys: await openKeyRing(sql, {
        pem: config.privateKey,
        tokenTtlSeconds: config.tokenTtlSeconds,
        rotateAfterMs: config.keyRotationDays * 86_400_000,
      }),
      users: grpcClient(user.UserInternalService, config.userGrpcAddr),
    }),
    bindings: (_sql, config, { keys, users }) => [
      authRpc({ keys, users, ttlSeconds: config.tokenTtlSeconds }),
    ],
    verifier: (config, { keys, users }) => authVerifier(keys, users, config.tokenTtlSeconds),
    tasks: (_sql, _config, { keys }) => [keyReloader(keys)],
    onStopped: ({ users }) => Promise.resolve(users.close()),
  });
}
