/**
 * A tiny SVG line-chart renderer for the bench results: stacked panels sharing one x axis (time),
 * each with its own y axis, line series (NaN points leave gaps), a legend, and shaded phase bands.
 * Pure: a spec in, markup out; no fonts or scripts, so the file renders anywhere (GitHub too).
 * @module
 */

/** One line. */
export interface Series {
  name: string;
  /** Any CSS colour. */
  color: string;
  /** [x, y] pairs, x ascending; a non-finite y breaks the line. */
  points: ReadonlyArray<readonly [number, number]>;
  dashed?: boolean;
}

/** One panel: a y axis and its lines. */
export interface Panel {
  title: string;
  yLabel: string;
  series: readonly Series[];
  /** Upper bound of the y axis (default: the data's maximum, rounded up to a nice tick). */
  yMax?: number;
}

/** A shaded x range with a label (a phase of the run). */
export interface Band {
  from: number;
  to: number;
  label: string;
}

/** What {@linkcode renderChart} draws. */
export interface ChartSpec {
  title: string;
  subtitle?: string;
  xLabel: string;
  panels: readonly Panel[];
  bands?: readonly Band[];
  /** @default 960 */
  width?: number;
  /** @default 260 */
  panelHeight?: number;
}

/** Escapes text for SVG/XML content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) =>
      c === "&"
        ? "&amp;"
        : c === "<"
        ? "&lt;"
        : c === ">"
        ? "&gt;"
        : c === '"'
        ? "&quot;"
        : "&#39;",
  );
}

/** A "nice" tick step (1, 2 or 5 × 10^k) for about `count` ticks over [0, max]. */
export function niceStep(max: number, count = 5): number {
  if (!(max > 0)) return 1;
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const nice = norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10;
  return nice * mag;
}

function fmt(v: number): string {
  if (Math.abs(v) >= 1000) return `${Math.round(v / 100) / 10}k`;
  return String(Math.round(v * 100) / 100);
}

const BAND_FILLS = ["#f2f6fc", "#fcf6ee", "#eef8f1", "#f7f0fa"];

/** Renders the chart as a standalone SVG document. */
export function renderChart(spec: ChartSpec): string {
  const width = spec.width ?? 960;
  const ph = spec.panelHeight ?? 260;
  const m = { left: 70, right: 170, top: spec.subtitle ? 80 : 60, bottom: 44, gap: 46 };
  const plotW = width - m.left - m.right;
  const height = m.top + spec.panels.length * ph + (spec.panels.length - 1) * m.gap + m.bottom;

  let xMin = Infinity;
  let xMax = -Infinity;
  for (const p of spec.panels) {
    for (const s of p.series) {
      for (const [x] of s.points) {
        if (!Number.isFinite(x)) continue;
        xMin = Math.min(xMin, x);
        xMax = Math.max(xMax, x);
      }
    }
  }
  for (const b of spec.bands ?? []) {
    xMin = Math.min(xMin, b.from);
    xMax = Math.max(xMax, b.to);
  }
  if (!Number.isFinite(xMin)) [xMin, xMax] = [0, 1];
  xMin = Math.min(0, xMin);
  if (xMax <= xMin) xMax = xMin + 1;
  const sx = (x: number) => m.left + ((x - xMin) / (xMax - xMin)) * plotW;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
      `viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
  );
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(
    `<text x="${m.left}" y="24" font-size="16" font-weight="bold">${escapeXml(spec.title)}</text>`,
  );
  if (spec.subtitle) {
    out.push(
      `<text x="${m.left}" y="44" fill="#555555">${escapeXml(spec.subtitle)}</text>`,
    );
  }

  spec.panels.forEach((panel, pi) => {
    const top = m.top + pi * (ph + m.gap);
    const bottom = top + ph;
    let yMax = panel.yMax ?? 0;
    if (panel.yMax === undefined) {
      for (const s of panel.series) {
        for (const [, y] of s.points) if (Number.isFinite(y) && y > yMax) yMax = y;
      }
    }
    const step = niceStep(yMax > 0 ? yMax : 1);
    yMax = Math.max(step, Math.ceil((yMax > 0 ? yMax : 1) / step) * step);
    const sy = (y: number) => bottom - (Math.min(y, yMax) / yMax) * ph;

    out.push(`<g class="panel" data-title="${escapeXml(panel.title)}">`);
    (spec.bands ?? []).forEach((b, bi) => {
      const x0 = sx(b.from);
      const x1 = sx(b.to);
      out.push(
        `<rect x="${x0.toFixed(1)}" y="${top}" width="${Math.max(0, x1 - x0).toFixed(1)}" ` +
          `height="${ph}" fill="${BAND_FILLS[bi % BAND_FILLS.length]}"/>`,
      );
      if (pi === 0) {
        out.push(
          `<text x="${(x0 + 4).toFixed(1)}" y="${top + 14}" font-size="11" fill="#777777">${
            escapeXml(b.label)
          }</text>`,
        );
      }
    });
    // Grid and y ticks.
    for (let v = 0; v <= yMax + step / 2; v += step) {
      const y = sy(v).toFixed(1);
      out.push(
        `<line x1="${m.left}" y1="${y}" x2="${m.left + plotW}" y2="${y}" stroke="#e3e3e3"/>`,
      );
      out.push(`<text x="${m.left - 6}" y="${y}" text-anchor="end" dy="4">${fmt(v)}</text>`);
    }
    // x ticks.
    const xs = niceStep(xMax - xMin, 10);
    for (let v = Math.ceil(xMin / xs) * xs; v <= xMax + 1e-9; v += xs) {
      const x = sx(v).toFixed(1);
      out.push(`<line x1="${x}" y1="${bottom}" x2="${x}" y2="${bottom + 4}" stroke="#333333"/>`);
      out.push(`<text x="${x}" y="${bottom + 16}" text-anchor="middle">${fmt(v)}</text>`);
    }
    out.push(
      `<rect x="${m.left}" y="${top}" width="${plotW}" height="${ph}" fill="none" ` +
        `stroke="#333333"/>`,
    );
    out.push(
      `<text x="${m.left}" y="${top - 8}" font-weight="bold">${escapeXml(panel.title)}</text>`,
    );
    out.push(
      `<text transform="translate(18 ${top + ph / 2}) rotate(-90)" text-anchor="middle">${
        escapeXml(panel.yLabel)
      }</text>`,
    );
    // Lines: one polyline per run of finite points.
    for (const s of panel.series) {
      const runs: string[][] = [[]];
      for (const [x, y] of s.points) {
        if (!Number.isFinite(x) || !Number.isFinite(y)) {
          if (runs[runs.length - 1]!.length) runs.push([]);
          continue;
        }
        runs[runs.length - 1]!.push(`${sx(x).toFixed(1)},${sy(y).toFixed(1)}`);
      }
      const dash = s.dashed ? ` stroke-dasharray="5 3"` : "";
      out.push(`<g class="series" data-name="${escapeXml(s.name)}">`);
      for (const r of runs) {
        if (r.length === 0) continue;
        if (r.length === 1) {
          const [cx, cy] = r[0]!.split(",");
          out.push(`<circle cx="${cx}" cy="${cy}" r="2" fill="${escapeXml(s.color)}"/>`);
        } else {
          out.push(
            `<polyline fill="none" stroke="${escapeXml(s.color)}" stroke-width="1.6"${dash} ` +
              `points="${r.join(" ")}"/>`,
          );
        }
      }
      out.push(`</g>`);
    }
    // Legend.
    panel.series.forEach((s, si) => {
      const lx = m.left + plotW + 14;
      const ly = top + 10 + si * 18;
      const dash = s.dashed ? ` stroke-dasharray="5 3"` : "";
      out.push(
        `<line x1="${lx}" y1="${ly}" x2="${lx + 22}" y2="${ly}" stroke="${
          escapeXml(s.color)
        }" stroke-width="2"${dash}/>`,
      );
      out.push(`<text x="${lx + 28}" y="${ly + 4}">${escapeXml(s.name)}</text>`);
    });
    out.push(`</g>`);
    if (pi === spec.panels.length - 1) {
      out.push(
        `<text x="${m.left + plotW / 2}" y="${bottom + 36}" text-anchor="middle">${
          escapeXml(spec.xLabel)
        }</text>`,
      );
    }
  });
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}
