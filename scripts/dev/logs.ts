/**
 * How the dev runner shows its processes' output: each line prefixed with the process's name in
 * its own colour, structured JSON log lines condensed to `time level message (trace …)`.
 * @module
 */

const COLOURS = [36, 33, 35, 32, 34, 91, 96, 93, 95];
const LEVEL: Record<string, string> = {
  trace: "\x1b[2mTRC\x1b[0m",
  debug: "\x1b[2mDBG\x1b[0m",
  info: "\x1b[32mINF\x1b[0m",
  warning: "\x1b[33mWRN\x1b[0m",
  error: "\x1b[31mERR\x1b[0m",
  fatal: "\x1b[41mFTL\x1b[0m",
};

/** A coloured, padded prefix for a process name. */
export function prefixOf(name: string, index: number, width: number): string {
  const colour = COLOURS[index % COLOURS.length]!;
  return `\x1b[${colour}m${name.padEnd(width)}\x1b[0m │ `;
}

/** One output line as shown: JSON logs condensed unless raw. */
export function renderLine(line: string, raw = false): string {
  if (raw || !line.startsWith("{")) return line;
  try {
    const o = JSON.parse(line) as Record<string, unknown>;
    if (typeof o.msg !== "string") return line;
    const time = typeof o.time === "string" ? o.time.slice(11, 23) : "";
    const level = LEVEL[String(o.level)] ?? String(o.level);
    const trace = typeof o.trace_id === "string"
      ? ` \x1b[2m(trace ${o.trace_id.slice(0, 8)})\x1b[0m`
      : "";
    return `\x1b[2m${time}\x1b[0m ${level} ${o.msg}${trace}`;
  } catch {
    return line;
  }
}

/** Splits a byte stream into lines and hands each to `onLine`. */
export async function forEachLine(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let rest = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    rest += value;
    let i: number;
    while ((i = rest.indexOf("\n")) >= 0) {
      onLine(rest.slice(0, i));
      rest = rest.slice(i + 1);
    }
  }
  if (rest) onLine(rest);
}
