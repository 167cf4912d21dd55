/**
 * A terminal screen (lines with ANSI colour codes, as `tmux capture-pane -e` gives them) as an SVG
 * picture: monospace text on a dark background, bold, dim and the eight basic colours. The README
 * shows `deno task top` this way.
 * @module
 */

const COLOURS: Record<number, string> = {
  30: "#4d4d4d",
  31: "#ff6e67",
  32: "#5ff967",
  33: "#fefb67",
  34: "#6871ff",
  35: "#ff76ff",
  36: "#5ffdff",
  37: "#e5e5e5",
};
const FG = "#d8d8d8";
const BG = "#1e1f24";

interface Style {
  bold: boolean;
  dim: boolean;
  colour: string;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function apply(style: Style, codes: number[]): Style {
  let s = { ...style };
  if (!codes.length) codes = [0];
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i]!;
    if (c === 0) s = { bold: false, dim: false, colour: FG };
    else if (c === 1) s.bold = true;
    else if (c === 2) s.dim = true;
    else if (c === 22) s = { ...s, bold: false, dim: false };
    else if (c === 39) s.colour = FG;
    else if (COLOURS[c]) s.colour = COLOURS[c]!;
    else if (c >= 90 && c <= 97) s.colour = COLOURS[c - 60]!;
    else if (c === 38 && codes[i + 1] === 5) i += 2; // 256 colours: keep the default
  }
  return s;
}

/** Runs of text with one style, per line. */
export function styledRuns(line: string): Array<{ text: string; style: Style }> {
  const runs: Array<{ text: string; style: Style }> = [];
  let style: Style = { bold: false, dim: false, colour: FG };
  // deno-lint-ignore no-control-regex
  const re = /\x1b\[([0-9;]*)m/g;
  let at = 0;
  for (let m = re.exec(line); m; m = re.exec(line)) {
    if (m.index > at) runs.push({ text: line.slice(at, m.index), style });
    style = apply(style, m[1] ? m[1].split(";").map(Number) : []);
    at = m.index + m[0].length;
  }
  if (at < line.length) runs.push({ text: line.slice(at), style });
  // deno-lint-ignore no-control-regex
  return runs.map((r) => ({ ...r, text: r.text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "") }));
}

/** Options of {@linkcode terminalSvg}. */
export interface TerminalSvgOptions {
  /** Columns of the terminal. @default the longest line */
  columns?: number;
  /** The window's title. */
  title?: string;
}

/** An SVG picture of a terminal showing `lines`. */
export function terminalSvg(lines: readonly string[], opts: TerminalSvgOptions = {}): string {
  const cw = 8.4;
  const lh = 18;
  const pad = 14;
  const bar = 28;
  const cols = opts.columns ??
    Math.max(20, ...lines.map((l) => styledRuns(l).reduce((n, r) => n + r.text.length, 0)));
  const width = Math.ceil(cols * cw + 2 * pad);
  const height = bar + lines.length * lh + 2 * pad;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="'DejaVu Sans Mono', Menlo, Consolas, monospace" font-size="14">`,
    `<rect width="${width}" height="${height}" rx="8" fill="${BG}"/>`,
    `<circle cx="18" cy="14" r="5" fill="#ff5f56"/><circle cx="36" cy="14" r="5" fill="#ffbd2e"/><circle cx="54" cy="14" r="5" fill="#27c93f"/>`,
  ];
  if (opts.title) {
    out.push(
      `<text x="${width / 2}" y="18" fill="#9a9a9a" font-size="12" text-anchor="middle">${
        escapeXml(opts.title)
      }</text>`,
    );
  }
  lines.forEach((line, i) => {
    const y = bar + pad + (i + 1) * lh - 4;
    const spans = styledRuns(line).filter((r) => r.text.length).map((r) => {
      const attrs = [`fill="${r.style.colour}"`];
      if (r.style.bold) attrs.push(`font-weight="bold"`);
      if (r.style.dim) attrs.push(`fill-opacity="0.6"`);
      return `<tspan ${attrs.join(" ")}>${escapeXml(r.text)}</tspan>`;
    });
    if (spans.length) {
      out.push(`<text x="${pad}" y="${y}" xml:space="preserve">${spans.join("")}</text>`);
    }
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}
