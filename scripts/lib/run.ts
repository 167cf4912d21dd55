/** Running child processes from scripts. */

/** Options for {@linkcode run}. */
export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Capture stdout/stderr instead of inheriting them. @default false */
  capture?: boolean;
  /** Throw when the exit code is not 0. @default true */
  check?: boolean;
}

/** What a finished command gave. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; by default throws with its output when it fails. */
export async function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const capture = opts.capture ?? false;
  const command = new Deno.Command(cmd, {
    args,
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    ...(opts.env ? { env: opts.env } : {}),
    stdin: "null",
    stdout: capture ? "piped" : "inherit",
    stderr: capture ? "piped" : "inherit",
  });
  const out = await command.output();
  const dec = new TextDecoder();
  const result = {
    code: out.code,
    stdout: capture ? dec.decode(out.stdout) : "",
    stderr: capture ? dec.decode(out.stderr) : "",
  };
  if ((opts.check ?? true) && out.code !== 0) {
    const detail = capture ? `\n${result.stdout}${result.stderr}`.trimEnd() : "";
    throw new Error(`${cmd} ${args.join(" ")} exited with ${out.code}${detail}`);
  }
  return result;
}
