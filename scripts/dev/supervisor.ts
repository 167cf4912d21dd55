/**
 * The dev runner's process supervisor: starts each application process as a child, shows its
 * output with a coloured prefix, restarts a crashed one with backoff (loudly), and stops them all
 * with SIGTERM (then SIGKILL) on request. Pid files go where the bench and chaos tools look.
 * @module
 */
import { dirname } from "node:path";
import { ROOT } from "../lib/paths.ts";
import type { InfraProfile } from "../infra/config.ts";
import { appPidFile } from "../stack/apps.ts";
import type { AppName } from "../stack/config.ts";
import { appArgs } from "../stack/config.ts";
import { forEachLine, prefixOf, renderLine } from "./logs.ts";

/** One supervised process. */
export interface Supervised {
  readonly app: AppName;
  /** How many times it was restarted after a crash. */
  restarts(): number;
  /** The running child's pid, if any. */
  pid(): number | undefined;
}

/** Options for {@linkcode Supervisor}. */
export interface SupervisorOptions {
  profile: InfraProfile;
  /** Print JSON log lines as they are. */
  rawLogs?: boolean;
  /** Where the supervisor's own messages go. */
  say?: (line: string) => void;
  /** Width of the name column of each output line. @default 12 */
  width?: number;
}

const RED = "\x1b[1;31m";
const RESET = "\x1b[0m";

/** Supervises the stack's application processes. */
export class Supervisor {
  #children = new Map<AppName, { child?: Deno.ChildProcess | undefined; restarts: number }>();
  #stopping = false;
  #width: number;
  #index = 0;

  constructor(readonly opts: SupervisorOptions) {
    this.#width = opts.width ?? 12;
  }

  #say(line: string): void {
    (this.opts.say ?? ((l: string) => console.error(l)))(line);
  }

  /** Starts an app and keeps it running until {@linkcode stopAll}. */
  start(app: AppName, env: Record<string, string>): Supervised {
    const prefix = prefixOf(app, this.#index++, this.#width);
    const state: { child?: Deno.ChildProcess | undefined; restarts: number } = { restarts: 0 };
    this.#children.set(app, state);
    const pidFile = appPidFile(this.opts.profile, app);
    const run = async (): Promise<void> => {
      let backoff = 1000;
      while (!this.#stopping) {
        const startedAt = Date.now();
        const child = new Deno.Command(Deno.execPath(), {
          args: appArgs(app, this.opts.profile),
          cwd: ROOT,
          env,
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        state.child = child;
        await Deno.mkdir(dirname(pidFile), { recursive: true });
        await Deno.writeTextFile(pidFile, `${child.pid}\n`);
        const show = (line: string) => {
          if (
            line.includes("TimeoutNegativeWarning") || line.startsWith("Timeout duration was set")
          ) {
            return; // kafkajs under Deno: harmless noise
          }
          console.log(prefix + renderLine(line, this.opts.rawLogs));
        };
        const pumps = Promise.all([
          forEachLine(child.stdout, show),
          forEachLine(child.stderr, show),
        ]);
        const status = await child.status;
        await pumps.catch(() => {});
        state.child = undefined;
        await Deno.remove(pidFile).catch(() => {});
        if (this.#stopping) return;
        if (Date.now() - startedAt > 60_000) backoff = 1000;
        state.restarts++;
        this.#say(
          `${RED}✖ ${app} exited (${
            status.signal ? `signal ${status.signal}` : `code ${status.code}`
          }) — restarting in ${backoff / 1000} s (restart #${state.restarts})${RESET}`,
        );
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 30_000);
      }
    };
    run().catch((e) => this.#say(`${RED}supervising ${app} failed: ${e}${RESET}`));
    return {
      app,
      restarts: () => state.restarts,
      pid: () => state.child?.pid,
    };
  }

  /** Stops every app: SIGTERM, then SIGKILL after graceMs. */
  async stopAll(graceMs = 10_000): Promise<void> {
    this.#stopping = true;
    const waits = [...this.#children.entries()].map(async ([app, s]) => {
      const child = s.child;
      if (!child) return;
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
      }, graceMs);
      await child.status.catch(() => {});
      clearTimeout(timer);
      await Deno.remove(appPidFile(this.opts.profile, app)).catch(() => {});
    });
    await Promise.all(waits);
  }
}
