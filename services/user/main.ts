/**
 * The user service: identities and their password credentials. It serves the public UserService
 * and, on gRPC only, the UserInternalService the auth service logs users in through.
 * Config → database → admin bootstrap (`prepare`) → servers. It has no Kafka consumer.
 * @module
 */
import { bool, loadConfig, type Var } from "@stocklet/shared/config";
import { runService } from "@stocklet/shared/service";
import { adminPasswordProblem, bootstrapAdmin, DEFAULT_ADMIN_EMAIL } from "./admin.ts";
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

/**
 * The admin password: required (no default), and of reasonable strength unless the dev and test
 * stacks say they run with their published passwords (`STOCKLET_INSECURE_DEV_ADMIN=true`).
 */
function adminPassword(email: string, insecureDev: boolean): Var<string> {
  return {
    name: "STOCKLET_ADMIN_PASSWORD",
    parse(raw) {
      // The same bounds RegisterUser enforces, so the admin can log in and change it like anyone.
      if (raw.length < 8 || raw.length > 128) throw new Error("must be 8 to 128 characters");
      const weak = insecureDev ? undefined : adminPasswordProblem(raw, email);
      if (weak) throw new Error(`${weak} (the admin password must be strong outside development)`);
      return raw;
    },
  };
}

if (import.meta.main) {
  // The admin password's rules depend on two other variables: those are read first.
  const { insecureDev, email } = loadConfig({
    insecureDev: bool("STOCKLET_INSECURE_DEV_ADMIN", { default: false }),
    email: adminEmail(),
  });
  await runService("user", {
    config: {
      adminEmail: adminEmail(),
      adminPassword: adminPassword(email, insecureDev),
    },
    prepare: (sql, config) =>
      bootstrapAdmin(sql, { email: config.adminEmail, password: config.adminPassword }),
    bindings: (sql) => [userRpc(sql), userInternalRpc(sql)],
  });
}
