/**
 * The dashboard as terminal lines (ANSI colours; {@linkcode plain} strips them): a header, one line
 * per service, the saga below. Red marks what needs a look: failures, lag, dead letters.
 * @module
 */
import type { TopView } from "./view.ts";

const BOLD = "\x1b[1m";
const DIM = "\x1b[2m";
const RED = "\x1b[31m";
const GREEN = "\x1b[32m";
const YELLOW = "\x1b[33m";
const CYAN = "\x1b[36m";
const RESET = "\x1b[0m";

/** A line without its colours. */
export function plain(line: string): string {
  // deno-lint-ignore no-control-regex
  return line.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
}

function num(n: number | undefined, digits = 1): string {
  if (n === undefined || !Number.isFinite(n)) return "-";
  if (n >= 1000) return Math.round(n).toLocaleString("en-US");
  return n.toFixed(digits);
}

function cell(text: string, width: number, colour = ""): string {
  const padded = text.length >= width ? text : " ".repeat(width - text.length) + text;
  return colour ? `${colour}${padded}${RESET}` : padded;
}

/** A service's name, with its number of replicas when it runs several (`order ×2`). */
function nameOf(r: TopView["services"][number]): string {
  return r.instances ? `${r.service} ×${r.instances}` : r.service;
}

/** Options of {@linkcode renderTop}. */
export interface RenderOptions {
  /** What the screen watches (`test stack, collector :15518`). */
  source: string;
  /** When shown (a clock). @default the view's time */
  clock?: string;
}

/** The screen's lines. */
export function renderTop(v: TopView, opts: RenderOptions): string[] {
  const clock = opts.clock ?? new Date(v.now).toISOString().slice(11, 19);
  const lines: string[] = [];
  lines.push(
    `${BOLD}Stocklet top${RESET}  ${DIM}${opts.source}${RESET}  ${clock}  ${DIM}rates over ${v.windowS} s${RESET}`,
  );
  lines.push("");
  lines.push(
    `${BOLD}${"SERVICE".padEnd(15)}${cell("REQ/S", 9)}${cell("ERR%", 7)}${cell("P99 ms", 9)}${
      cell("EVENTS/S", 10)
    }${cell("LAG", 7)}${cell("DLQ", 6)}${cell("OUTBOX", 8)}${cell("MEM MiB", 9)}${RESET}`,
  );
  for (const r of v.services) {
    const err = r.errPct === undefined
      ? cell("-", 7)
      : cell(num(r.errPct), 7, r.errPct >= 1 ? RED : r.errPct > 0 ? YELLOW : GREEN);
    lines.push(
      `${CYAN}${nameOf(r).padEnd(15)}${RESET}${cell(num(r.reqPerS), 9)}${err}${
        cell(num(r.p99Ms), 9)
      }${cell(r.consumedPerS === undefined ? "-" : num(r.consumedPerS), 10)}${
        r.lag === undefined
          ? cell("-", 7)
          : cell(String(r.lag), 7, r.lag > 100 ? RED : r.lag > 0 ? YELLOW : "")
      }${
        r.deadLetters === undefined
          ? cell("-", 6)
          : cell(String(r.deadLetters), 6, r.deadLetters > 0 ? RED : "")
      }${
        r.outbox === undefined
          ? cell("-", 8)
          : cell(String(r.outbox), 8, r.outbox > 100 ? YELLOW : "")
      }${cell(num(r.memMiB, 0), 9)}`,
    );
  }
  if (!v.services.length) lines.push(`${DIM}(no metrics yet: is the stack running?)${RESET}`);
  const s = v.saga;
  lines.push("");
  lines.push(`${BOLD}SAGA${RESET}  orders/s`);
  lines.push(
    `  placed ${BOLD}${num(s.placedPerS)}${RESET}   approved ${GREEN}${
      num(s.approvedPerS)
    }${RESET}   rejected ${s.rejectedPerS > 0 ? YELLOW : ""}${
      num(s.rejectedPerS)
    }${RESET}   cancelled ${num(s.cancelledPerS)}`,
  );
  const reasons = Object.entries(s.rejectedBy).filter(([, r]) => r > 0).sort((a, b) => b[1] - a[1]);
  if (reasons.length) {
    lines.push(
      `  ${DIM}rejected by reason:${RESET} ${reasons.map(([k, r]) => `${k} ${num(r)}`).join(", ")}`,
    );
  }
  lines.push(
    `  place → terminal  p50 ${BOLD}${num(s.p50Ms, 0)}${RESET} ms   p99 ${BOLD}${
      num(s.p99Ms, 0)
    }${RESET} ms   ${DIM}(${s.ended} sagas ended)${RESET}`,
  );
  lines.push("");
  lines.push(`${DIM}q or Ctrl-C quits${RESET}`);
  return lines;
}
