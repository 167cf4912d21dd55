/**
 * Facts read statically from the TypeScript sources, for the generated documents and the checks
 * that keep the deployment honest: which topics each service subscribes to (`on("<topic>", …)`)
 * and publishes (`tx.publish("<topic>", …)`), and which environment variables a program reads
 * (`Deno.env.get("X")`, the config helpers `str("X")`, `int("X")`, … and hand-written `Var`s
 * with `name: "X"`). Comments are blanked first, so examples in JSDoc do not count.
 *
 * @example
 * ```ts
 * const subs = await subscriptionsOf();
 * subs.filter((s) => s.topic === "order.state.created").map((s) => s.service); // ["product"]
 * ```
 * @module
 */
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { SERVICE_NAMES, type ServiceName, WEB } from "@stocklet/shared/topology";

/** Who subscribes or publishes: a service, or the web front (its read model). */
export type Participant = ServiceName | "web";
import { ROOT } from "../lib/paths.ts";

/** One `on("<topic>", Schema, handler, { filter })` call in a service's (or the web front's) code. */
export interface Subscription {
  service: Participant;
  topic: string;
  /** The schema expression's last name without `Schema` (`OrderCreatedEvent`). */
  message: string;
  /** The filter's test, whitespace-collapsed (`e.type === Quote.AVAILABLE`), if any. */
  filter?: string;
  /** Functions the handler calls, in order of appearance (`priceOrder`, `rejectOrder`). */
  calls: string[];
  /** Enum aliases of the file (`Quote` → `ProductPriceQuoteEvent_Type`), to read the filter. */
  aliases: Record<string, string>;
  /** Path relative to the repository root. */
  file: string;
}

/** One `tx.publish("<topic>", key, Schema, …)` call in a service's code. */
export interface Publication {
  service: Participant;
  topic: string;
  /** The Kafka key expression (the outbox `aggregateid`), e.g. `e.orderId`. */
  key: string;
  message: string;
  file: string;
}

/** Thrown when a call cannot be read statically (e.g. a topic held in a variable). */
export class ScanError extends Error {
  override readonly name = "ScanError";
}

// ---------------------------------------------------------------------------------------------
// A small lexer: enough of TypeScript to skip strings, templates and comments and to balance
// brackets. Regular-expression literals are not recognised (the scanned calls hold none).

function skipString(src: string, i: number): number {
  const q = src[i];
  let j = i + 1;
  while (j < src.length && src[j] !== q) {
    if (src[j] === "\\") j++;
    else if (src[j] === "\n") break; // unterminated: stop at the line end
    j++;
  }
  return j + 1;
}

function skipTemplate(src: string, i: number): number {
  let j = i + 1;
  while (j < src.length && src[j] !== "`") {
    if (src[j] === "\\") j += 2;
    else if (src[j] === "$" && src[j + 1] === "{") j = scanTo(src, j + 2, "}") + 1;
    else j++;
  }
  return j + 1;
}

/** The index just past a comment starting at i, or undefined when none starts there. */
function skipComment(src: string, i: number): number | undefined {
  if (src[i] !== "/") return undefined;
  if (src[i + 1] === "/") {
    const end = src.indexOf("\n", i);
    return end === -1 ? src.length : end;
  }
  if (src[i + 1] === "*") {
    const end = src.indexOf("*/", i + 2);
    return end === -1 ? src.length : end + 2;
  }
  return undefined;
}

const OPEN = "([{";
const CLOSE = ")]}";

/**
 * The index of the first character of `stop` found at bracket depth 0 from i, skipping strings,
 * templates and comments; an unmatched closing bracket also ends the scan.
 */
function scanTo(src: string, i: number, stop: string): number {
  let depth = 0;
  let j = i;
  while (j < src.length) {
    const c = src[j]!;
    const afterComment = skipComment(src, j);
    if (afterComment !== undefined) {
      j = afterComment;
      continue;
    }
    if (c === '"' || c === "'") {
      j = skipString(src, j);
      continue;
    }
    if (c === "`") {
      j = skipTemplate(src, j);
      continue;
    }
    if (depth === 0 && stop.includes(c)) return j;
    if (OPEN.includes(c)) depth++;
    else if (CLOSE.includes(c)) {
      if (depth === 0) return j;
      depth--;
    }
    j++;
  }
  return src.length;
}

/**
 * The source with every comment replaced by spaces (newlines kept), so offsets and line numbers
 * stay the same.
 *
 * @example
 * ```ts
 * blankComments('a // b\nc /* d *\/ "e // f"'); // 'a     \nc         "e // f"'
 * ```
 */
export function blankComments(src: string): string {
  let out = "";
  let j = 0;
  while (j < src.length) {
    const c = src[j]!;
    const afterComment = skipComment(src, j);
    if (afterComment !== undefined) {
      out += src.slice(j, afterComment).replace(/[^\n]/g, " ");
      j = afterComment;
    } else if (c === '"' || c === "'" || c === "`") {
      const end = c === "`" ? skipTemplate(src, j) : skipString(src, j);
      out += src.slice(j, end);
      j = end;
    } else {
      out += c;
      j++;
    }
  }
  return out;
}

/**
 * The top-level arguments of the call whose `(` is at `open`, trimmed.
 *
 * @example
 * ```ts
 * callArguments('f("a, b", g(1, 2), { x: [3, 4] })', 1); // ['"a, b"', "g(1, 2)", "{ x: [3, 4] }"]
 * ```
 */
export function callArguments(src: string, open: number): string[] {
  const args: string[] = [];
  let i = open + 1;
  for (;;) {
    const end = scanTo(src, i, ",)");
    const arg = src.slice(i, end).trim();
    if (arg) args.push(arg);
    if (end >= src.length || src[end] !== ",") return args;
    i = end + 1;
  }
}

/** The value of a plain string literal (`"x"` or `'x'`), or undefined for anything else. */
export function stringLiteral(expr: string): string | undefined {
  const m = /^(["'])((?:(?!\1)[^\\\n])*)\1$/.exec(expr.trim());
  return m ? m[2] : undefined;
}

function collapse(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** `events.OrderCreatedEventSchema` → `OrderCreatedEvent`; undefined if not a schema. */
function messageOfSchema(expr: string): string | undefined {
  const m = /(?:^|\.)(\w+)Schema$/.exec(expr.trim());
  return m ? m[1] : undefined;
}

/** `const Quote = events.ProductPriceQuoteEvent_Type;` → { Quote: "ProductPriceQuoteEvent_Type" }. */
function enumAliases(src: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of src.matchAll(/\bconst\s+(\w+)\s*=\s*(?:\w+\.)?(\w+_\w+)\s*;/g)) {
    out[m[1]!] = m[2]!;
  }
  return out;
}

const NOT_CALLS = new Set(["if", "for", "while", "switch", "return", "await", "async", "catch"]);

/** Functions called in a handler's text (not methods: `x.f(` is skipped). */
function calledFunctions(handler: string): string[] {
  const out: string[] = [];
  for (const m of handler.matchAll(/(?<![\w.$])([A-Za-z_$][\w$]*)\s*\(/g)) {
    const name = m[1]!;
    if (!NOT_CALLS.has(name) && !out.includes(name)) out.push(name);
  }
  return out;
}

/** The filter test of an options object literal `{ filter: (e) => … }`. */
function filterOf(options: string | undefined): string | undefined {
  if (!options) return undefined;
  const body = options.trim().replace(/^\{/, "").replace(/\}$/, "");
  for (const prop of callArguments(`(${body})`, 0)) {
    const m = /^filter\s*:\s*(?:\(\s*\w*\s*\)|\w+)\s*=>\s*([\s\S]+)$/.exec(prop);
    if (m) return collapse(m[1]!);
  }
  return undefined;
}

function lineOf(src: string, index: number): number {
  return src.slice(0, index).split("\n").length;
}

// ---------------------------------------------------------------------------------------------
// Services' code.

async function tsFilesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      const p = join(dir, e.name);
      if (e.isDirectory) out.push(...await tsFilesUnder(p));
      else if (/\.ts$/.test(e.name) && !/(_test|^testing)\.ts$/.test(e.name)) out.push(p);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out.sort();
}

async function serviceSources(
  root: string,
): Promise<Array<{ service: Participant; file: string; src: string }>> {
  const out = [];
  const dirs: Array<[Participant, string]> = [
    ...SERVICE_NAMES.map((s): [Participant, string] => [s, join(root, "services", s)]),
    [WEB.name, join(root, WEB.name)],
  ];
  for (const [service, dir] of dirs) {
    for (const path of await tsFilesUnder(dir)) {
      out.push({
        service,
        file: relative(root, path),
        src: blankComments(await Deno.readTextFile(path)),
      });
    }
  }
  return out;
}

/**
 * Every subscription in `services/<svc>/` and the web front's `web/` (tests and test helpers
 * excluded), in service order (the topology's, the web front last) and then source order.
 *
 * @param root The repository root. @default ROOT
 * @throws ScanError for an `on(…)` reaction whose topic is not a string literal.
 */
export async function subscriptionsOf(root: string = ROOT): Promise<Subscription[]> {
  const out: Subscription[] = [];
  for (const { service, file, src } of await serviceSources(root)) {
    const aliases = enumAliases(src);
    for (const m of src.matchAll(/(?<![\w.$])on\(/g)) {
      const args = callArguments(src, m.index! + 2);
      const message = messageOfSchema(args[1] ?? "");
      if (!message) continue; // not a reaction
      const topic = stringLiteral(args[0] ?? "");
      if (topic === undefined) {
        throw new ScanError(
          `${file}:${lineOf(src, m.index!)}: the topic of on(…) must be a string literal, got ${
            args[0]
          }`,
        );
      }
      const filter = filterOf(args[3]);
      out.push({
        service,
        topic,
        message,
        ...(filter ? { filter } : {}),
        calls: calledFunctions(args[2] ?? ""),
        aliases,
        file,
      });
    }
  }
  return out;
}

/**
 * Every `.publish("<topic>", key, Schema, …)` in `services/<svc>/` (tests excluded).
 *
 * @param root The repository root. @default ROOT
 * @throws ScanError for a publish whose topic is not a string literal.
 */
export async function publicationsOf(root: string = ROOT): Promise<Publication[]> {
  const out: Publication[] = [];
  for (const { service, file, src } of await serviceSources(root)) {
    for (const m of src.matchAll(/\.publish\(/g)) {
      const args = callArguments(src, m.index! + "publish".length + 1);
      const topic = stringLiteral(args[0] ?? "");
      if (topic === undefined) {
        throw new ScanError(
          `${file}:${
            lineOf(src, m.index!)
          }: the topic of publish(…) must be a string literal, got ${args[0]}`,
        );
      }
      out.push({
        service,
        topic,
        key: collapse(args[1] ?? ""),
        message: messageOfSchema(args[2] ?? "") ?? collapse(args[2] ?? ""),
        file,
      });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Environment variables.

const ENV_PATTERNS: readonly RegExp[] = [
  /\bDeno\.env\.get\(\s*["']([A-Za-z_][A-Za-z0-9_]*)["']/g,
  /\bprocess\.env\.([A-Za-z_][A-Za-z0-9_]*)/g,
  // The config helpers of shared/config.ts (and edge/config.ts's use of them).
  /(?<![\w.$])(?:str|int|url|list|port|bool|oneOf)\(\s*["']([A-Z][A-Z0-9_]*)["']/g,
  // A hand-written `Var` ({ name: "X", parse(raw) {…} }).
  /\bname:\s*["']([A-Z][A-Z0-9_]*)["']/g,
];

/**
 * The environment variables read by the given files, each with the files that read it.
 *
 * @param files Absolute paths of TypeScript files.
 * @param root Paths in the result are relative to it. @default ROOT
 */
export async function envReadsOf(
  files: readonly string[],
  root: string = ROOT,
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const path of files) {
    const src = blankComments(await Deno.readTextFile(path));
    for (const re of ENV_PATTERNS) {
      for (const m of src.matchAll(re)) {
        const readers = out.get(m[1]!) ?? [];
        const rel = relative(root, path);
        if (!readers.includes(rel)) readers.push(rel);
        out.set(m[1]!, readers);
      }
    }
  }
  return new Map([...out].sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * Environment reads whose variable name is not a literal (`Deno.env.get(name)`,
 * `Deno.env.toObject()`), which {@linkcode envReadsOf} cannot name: each as `file: code`.
 *
 * @param files Absolute paths of TypeScript files.
 * @param root Paths in the result are relative to it. @default ROOT
 */
export async function dynamicEnvReadsOf(
  files: readonly string[],
  root: string = ROOT,
): Promise<string[]> {
  const out: string[] = [];
  for (const path of files) {
    const src = blankComments(await Deno.readTextFile(path));
    for (const m of src.matchAll(/\bDeno\.env\.(?:get\(\s*(?!["'])[^)]*\)|toObject\(\))/g)) {
      out.push(`${relative(root, path)}: ${m[0]}`);
    }
  }
  return out;
}

/**
 * The repository's own modules a program loads (its static import graph, from `deno info`),
 * generated protobuf code excluded.
 *
 * @param entry Path of the entry module, absolute or relative to root.
 * @param root The repository root. @default ROOT
 * @returns Absolute paths, sorted.
 */
export async function localModulesOf(entry: string, root: string = ROOT): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  if (!out.success) {
    throw new Error(`deno info ${entry} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: Array<{ specifier: string }>;
  };
  return info.modules
    .map((m) => m.specifier)
    .filter((s) => s.startsWith("file://"))
    .map((s) => fileURLToPath(s))
    .filter((p) =>
      p.startsWith(root + "/") && !p.startsWith(join(root, "shared", "gen") + "/") &&
      /\.ts$/.test(p)
    )
    .sort();
}
