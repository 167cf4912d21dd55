/**
 * Formats generated text with the repository's own `deno fmt` settings, so generated Markdown and
 * YAML pass `deno fmt --check` without being excluded from it.
 * @module
 */
import { ROOT } from "../lib/paths.ts";

/**
 * Formats text as a file of the given kind would be by `deno fmt` in the repository.
 *
 * @param text The unformatted text.
 * @param ext The kind: `md`, `yaml`, `json`, `ts`, …
 * @returns The formatted text.
 * @example
 * ```ts
 * await denoFmt("a:   1\n", "yaml"); // "a: 1\n"
 * ```
 */
export async function denoFmt(text: string, ext: string): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["fmt", `--ext=${ext}`, "-"],
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const out = await child.output();
  if (!out.success) {
    throw new Error(`deno fmt --ext=${ext} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}
