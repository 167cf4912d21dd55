/**
 * The errors `infra up` reports when a component is unhealthy or its port is taken.
 * @module
 */
import { type Component, type InfraConfig, portEnvName } from "./config.ts";
import { InfraError, tailFile } from "./process.ts";

/** The error for a component whose process runs but does not answer. */
export function healthError(
  name: Component,
  pid: number,
  port: number,
  logFile: string,
): InfraError {
  return new InfraError(
    `${name} (pid ${pid}) runs but does not answer on port ${port}.\n` +
      `--- the end of ${logFile}:\n${tailFile(logFile, 40)}\n` +
      "Stop it with `deno task infra down` and run `deno task infra up` again; " +
      `\`deno task infra logs ${name}\` shows the whole log.`,
  );
}

/** The error for a port held by a process that this profile did not start. */
export function portTakenError(name: Component, port: number, cfg: InfraConfig): InfraError {
  const key = name === "postgres"
    ? "postgres"
    : name === "connect"
    ? "connect"
    : port === cfg.ports.kafkaController
    ? "kafkaController"
    : "kafka";
  return new InfraError(
    `port ${port} (for ${name}) is taken by a process this profile did not start ` +
      `(\`ss -ltnp 'sport = :${port}'\` shows which). Stop it, or choose another port with ` +
      `${portEnvName(cfg.profile, key)}=<port>.`,
  );
}
