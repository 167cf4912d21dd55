/**
 * Environment configuration, parsed and validated once at start-up. Every missing or invalid
 * variable is reported in one error, so a misconfigured process says everything at once.
 *
 * @example
 * ```ts
 * const cfg = loadConfig({
 *   httpPort: int("HTTP_PORT", { default: 8080 }),
 *   databaseUrl: str("DATABASE_URL"),
 * });
 * ```
 * @module
 */
import { httpUrlVar, type ServiceName, SERVICES } from "./topology.ts";

/** How to read one variable. */
export interface Var<T> {
  /** The environment variable's name. */
  name: string;
  /** Parses the raw value; throws an Error whose message says what is wrong. */
  parse(raw: string): T;
  /** Used when the variable is unset or empty; without it the variable is required. */
  default?: T;
}

/** Thrown by {@linkcode loadConfig} with every problem found. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n  ${problems.join("\n  ")}`);
    this.problems = problems;
  }
}

/** Options shared by the variable helpers. */
export interface VarOptions<T> {
  default?: T;
}

function withDefault<T>(v: Var<T>, opts: VarOptions<T>): Var<T> {
  return opts.default === undefined ? v : { ...v, default: opts.default };
}

/** A string variable. */
export function str(name: string, opts: VarOptions<string> = {}): Var<string> {
  return withDefault({ name, parse: (raw) => raw }, opts);
}

/** An integer variable, optionally bounded. */
export function int(
  name: string,
  opts: VarOptions<number> & { min?: number; max?: number } = {},
): Var<number> {
  return withDefault({
    name,
    parse(raw) {
      if (!/^-?\d+$/.test(raw)) throw new Error(`must be an integer, got "${raw}"`);
      const n = Number(raw);
      if (opts.min !== undefined && n < opts.min) throw new Error(`must be ≥ ${opts.min}`);
      if (opts.max !== undefined && n > opts.max) throw new Error(`must be ≤ ${opts.max}`);
      return n;
    },
  }, opts);
}

/** A TCP port variable (1–65535). */
export function port(name: string, opts: VarOptions<number> = {}): Var<number> {
  return int(name, { ...opts, min: 1, max: 65535 });
}

/** A boolean variable: true/false/1/0/yes/no. */
export function bool(name: string, opts: VarOptions<boolean> = {}): Var<boolean> {
  return withDefault({
    name,
    parse(raw) {
      const v = raw.toLowerCase();
      if (["1", "true", "yes", "on"].includes(v)) return true;
      if (["0", "false", "no", "off"].includes(v)) return false;
      throw new Error(`must be true or false, got "${raw}"`);
    },
  }, opts);
}

/** A URL variable with one of the given protocols. */
export function url(
  name: string,
  opts: VarOptions<string> & { protocols?: string[] } = {},
): Var<string> {
  return withDefault({
    name,
    parse(raw) {
      let u: URL;
      try {
        u = new URL(raw);
      } catch {
        throw new Error(`must be a URL, got "${raw}"`);
      }
      if (opts.protocols && !opts.protocols.includes(u.protocol.replace(/:$/, ""))) {
        throw new Error(`must use ${opts.protocols.join(" or ")}`);
      }
      return raw;
    },
  }, opts);
}

/** A comma-separated list variable (empty items dropped). */
export function list(name: string, opts: VarOptions<string[]> = {}): Var<string[]> {
  return withDefault({
    name,
    parse(raw) {
      const items = raw.split(",").map((s) => s.trim()).filter(Boolean);
      if (!items.length) throw new Error("must list at least one item");
      return items;
    },
  }, opts);
}

/** A variable restricted to a set of values. */
export function oneOf<T extends string>(
  name: string,
  values: readonly T[],
  opts: VarOptions<T> = {},
): Var<T> {
  return withDefault({
    name,
    parse(raw) {
      if (!(values as readonly string[]).includes(raw)) {
        throw new Error(`must be one of ${values.join(", ")}, got "${raw}"`);
      }
      return raw as T;
    },
  }, opts);
}

/** Reads and validates every variable; throws one ConfigError listing all problems. */
export function loadConfig<T extends Record<string, unknown>>(
  spec: { [K in keyof T]: Var<T[K]> },
  env: Record<string, string | undefined> = Deno.env.toObject(),
): T {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, v] of Object.entries(spec) as Array<[string, Var<unknown>]>) {
    const raw = env[v.name];
    if (raw === undefined || raw === "") {
      if ("default" in v) out[key] = v.default;
      else problems.push(`${v.name} is required`);
      continue;
    }
    try {
      out[key] = v.parse(raw);
    } catch (e) {
      problems.push(`${v.name} ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return out as T;
}

/**
 * Reads a configuration in parts (when one part's defaults depend on another's values), reporting
 * every problem of every part in one ConfigError at the end.
 *
 * @example
 * ```ts
 * const parts = configParts(env);
 * const urls = parts.load(serviceUrlSpec());
 * const rest = parts.load({ port: port("HTTP_PORT", { default: 8090 }) });
 * parts.done(); // throws one ConfigError with the problems of both
 * ```
 */
export function configParts(env: Record<string, string | undefined> = Deno.env.toObject()): {
  /** Loads one part; undefined when it has problems (they are reported by done()). */
  load<T extends Record<string, unknown>>(spec: { [K in keyof T]: Var<T[K]> }): T | undefined;
  /** Throws one ConfigError listing every problem found so far. */
  done(): void;
} {
  const problems: string[] = [];
  return {
    load(spec) {
      try {
        return loadConfig(spec, env);
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        problems.push(...e.problems);
        return undefined;
      }
    },
    done() {
      if (problems.length) throw new ConfigError(problems);
    },
  };
}

/**
 * The REST base URLs of every service, from `<SVC>_HTTP_URL` (e.g. `ORDER_HTTP_URL`): one URL, or
 * several comma-separated (one per replica), defaulting to the dev stack's port, without trailing
 * slashes: how the edge and the web front reach them.
 */
export function serviceUrlSpec(): { [K in ServiceName]: Var<string[]> } {
  const out = {} as { [K in ServiceName]: Var<string[]> };
  for (const s of SERVICES) {
    const base = url(httpUrlVar(s.name), { protocols: ["http", "https"] });
    out[s.name] = {
      name: base.name,
      parse: (raw) => {
        const urls = raw.split(",").map((u) => u.trim()).filter(Boolean);
        if (!urls.length) throw new Error("must list at least one URL");
        return urls.map((u) => base.parse(u).replace(/\/+$/, ""));
      },
      default: [`http://127.0.0.1:${s.httpPort}`],
    };
  }
  return out;
}
