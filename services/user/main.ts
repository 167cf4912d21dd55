/**
 * The user service: identities and their password credentials. It serves the public UserService
 * and, on gRPC only, the UserInternalService the auth service logs users in through.
 * Config → database → admin bootstrap → servers. It has no Kafka consumer.
 * @module
 */
import { loadConfig, type Var } from "@stocklet/shared/config";
import { connectDb } from "@stocklet/shared/db";
import { setupLogging } from "@stocklet/shared/logging";
import { commonConfig, startService } from "@stocklet/shared/service";
import { bootstrapAdmin, DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD } from "./admin.ts";
import { userInternalRpc } from "./internal_rpc.ts";
import { userRpc } from "./rpc.ts";

function adminEmail(): Var<string> {
  return {
    name: "STOCKLET_ADMIN_EMAIL",
    default: DEFAULT_ADMIN_EMAIL,
    parse(raw) {
      if (!/^[^\s@]+@[^\s@]+$/.test(raw)) throw new Error(`must be an email address, got "${raw}"`);
      return raw;
    },
  };
}

function adminPassword(): Var<string> {
  return {
    name: "STOCKLET_ADMIN_PASSWORD",
    default: DEFAULT_ADMIN_PASSWORD,
    parse(raw) {
      // The same bounds RegisterUser enforces, so the admin can log in and change it like anyone.
      if (raw.length < 8 || raw.length > 128) throw new Error("must be 8 to 128 characters");
      return raw;
    },
  };
}

if (import.meta.main) {
  const config = loadConfig({
    ...commonConfig("user"),
    adminEmail: adminEmail(),
    adminPassword: adminPassword(),
  });
  setupLogging("user");
  const sql = connectDb(config.databaseUrl);
  await bootstrapAdmin(sql, { email: config.adminEmail, password: config.adminPassword });
  await startService({
    name: "user",
    config,
    sql,
    bindings: [userRpc(sql), userInternalRpc(sql)],
  });
}
