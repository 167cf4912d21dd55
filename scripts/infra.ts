/**
 * `deno task infra <command> [--profile dev|test]`: the local infrastructure without Docker.
 *
 *   up               start PostgreSQL, Kafka and Kafka Connect (reusing what runs)
 *   down             stop what `up` started
 *   status           pid, port, health and memory of each component
 *   logs [component] the end of a component's log (all three without one); -n N lines, -f follows
 *   reset            down, then delete the profile's state (databases, topics, logs)
 *
 * The profile defaults to `STOCKLET_INFRA_PROFILE` or `dev`. See scripts/infra/config.ts for the
 * ports and their environment variables.
 * @module
 */
import {
  type Component,
  COMPONENTS,
  infraConfig,
  infraDown,
  InfraError,
  infraReset,
  infraStatus,
  infraUp,
  isProfile,
  logFileOf,
  profileFromEnv,
} from "./infra/mod.ts";
import { sleep, tailFile } from "./infra/process.ts";

const USAGE = `usage: deno task infra <up|down|status|logs [component]|reset> [--profile dev|test]
  logs options: -n <lines> (default 100), -f (follow)
  components: ${COMPONENTS.join(", ")}`;

interface Args {
  command: string;
  rest: string[];
  profile: "dev" | "test";
  lines: number;
  follow: boolean;
}

function parseArgs(argv: string[]): Args {
  let profile = profileFromEnv();
  let lines = 100;
  let follow = false;
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--profile" || a.startsWith("--profile=")) {
      const v = a.includes("=") ? a.slice(a.indexOf("=") + 1) : argv[++i] ?? "";
      if (!isProfile(v)) throw new InfraError(`--profile ${v}: expected dev or test`);
      profile = v;
    } else if (a === "-n") {
      lines = Number(argv[++i]);
    } else if (a === "-f" || a === "--follow") {
      follow = true;
    } else if (a === "-h" || a === "--help") {
      positional.unshift("help");
    } else {
      positional.push(a);
    }
  }
  return { command: positional[0] ?? "help", rest: positional.slice(1), profile, lines, follow };
}

const progress = (line: string): void => {
  console.error(`infra: ${line}`);
};

async function showLogs(args: Args): Promise<void> {
  const cfg = infraConfig(args.profile);
  const wanted = args.rest.length ? args.rest : [...COMPONENTS];
  for (const c of wanted) {
    if (!(COMPONENTS as readonly string[]).includes(c) && c !== "maven" && c !== "apt") {
      throw new InfraError(`unknown component ${c}; one of ${COMPONENTS.join(", ")}`);
    }
  }
  const files = wanted.map((c) => logFileOf(cfg, c as Component));
  for (const f of files) {
    if (files.length > 1) console.log(`==> ${f} <==`);
    console.log(tailFile(f, args.lines));
  }
  if (!args.follow) return;
  const sizes = new Map(files.map((f) => [f, sizeOf(f)]));
  for (;;) {
    await sleep(300);
    for (const f of files) {
      const before = sizes.get(f) ?? 0;
      const now = sizeOf(f);
      if (now === before) continue;
      const start = now < before ? 0 : before; // rotated: start over
      const file = await Deno.open(f);
      await file.seek(start, Deno.SeekMode.Start);
      const buf = new Uint8Array(now - start);
      let off = 0;
      while (off < buf.length) {
        const n = await file.read(buf.subarray(off));
        if (n === null) break;
        off += n;
      }
      file.close();
      await Deno.stdout.write(buf.subarray(0, off));
      sizes.set(f, now);
    }
  }
}

function sizeOf(f: string): number {
  try {
    return Deno.statSync(f).size;
  } catch {
    return 0;
  }
}

async function main(): Promise<number> {
  const args = parseArgs(Deno.args);
  const cfg = infraConfig(args.profile);
  switch (args.command) {
    case "up": {
      const infra = await infraUp(cfg, { onProgress: progress });
      console.log(`profile     ${cfg.profile} (state in ${cfg.stateDir})`);
      console.log(`postgres    ${infra.pgUrl("")}<database>`);
      console.log(`kafka       ${infra.kafkaBrokers.join(",")}`);
      console.log(`connect     ${infra.connectUrl}`);
      return 0;
    }
    case "down": {
      const stopped = await infraDown(cfg, { onProgress: progress });
      console.log(stopped.length ? `stopped ${stopped.join(", ")}` : "nothing of ours was running");
      return 0;
    }
    case "status": {
      const all = await infraStatus(cfg);
      console.log(`profile ${cfg.profile}, state in ${cfg.stateDir}`);
      const mem = (s: { rssMiB: number; pssMiB: number }): string =>
        s.rssMiB === s.pssMiB || !s.pssMiB
          ? `rss ${s.rssMiB} MiB`
          : `rss ${s.rssMiB} MiB (pss ${s.pssMiB} MiB)`;
      for (const s of all) {
        const state = s.pid === undefined
          ? (s.answering ? "port taken by another process" : "stopped")
          : (s.answering ? "running" : "not answering");
        console.log(
          `${s.component.padEnd(9)} ${state.padEnd(14)} port ${String(s.port).padEnd(6)}` +
            `${s.pid === undefined ? "" : ` pid ${String(s.pid).padEnd(8)} ${mem(s)}`}`,
        );
      }
      return all.every((s) => s.pid !== undefined && s.answering) ? 0 : 3;
    }
    case "logs":
      await showLogs(args);
      return 0;
    case "reset":
      await infraReset(cfg, { onProgress: progress });
      return 0;
    case "help":
      console.log(USAGE);
      return 0;
    default:
      console.error(USAGE);
      return 2;
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (e) {
    if (e instanceof InfraError) {
      console.error(`infra: ${e.message}`);
      Deno.exit(1);
    }
    throw e;
  }
}
