import assert from "node:assert/strict";
import { escapeXml, niceStep, renderChart } from "./svg.ts";

/** A small well-formedness check: every tag closes in order, attributes are quoted. */
function assertWellFormed(xml: string): void {
  const stack: string[] = [];
  const re = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(xml))) {
    const between = xml.slice(last, m.index);
    assert.ok(!between.includes("<") && !between.includes(">"), `stray markup: ${between}`);
    last = re.lastIndex;
    const [, close, name, , self] = m;
    if (self) continue;
    if (close) assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    else stack.push(name!);
  }
  assert.ok(!xml.slice(last).includes("<"), "unparsed markup at the end");
  assert.deepEqual(stack, [], "unclosed elements");
}

const spec = {
  title: "Latency & throughput <test>",
  subtitle: "2 cores",
  xLabel: "seconds",
  bands: [{ from: 0, to: 5, label: "warm-up" }, { from: 5, to: 10, label: "20/s" }],
  panels: [
    {
      title: "latency",
      yLabel: "ms",
      series: [
        { name: "p50", color: "#1f77b4", points: [[0, 10], [1, 12], [2, NaN], [3, 11]] as const },
        { name: "p99", color: "#d62728", points: [[0, 40], [1, 90], [2, 70], [3, 50]] as const },
      ],
    },
    {
      title: "throughput",
      yLabel: "orders/s",
      series: [{ name: "approved", color: "#2ca02c", points: [[0.5, 16], [1.5, 18]] as const }],
    },
  ],
};

Deno.test("renderChart: a well-formed SVG document with every series and its legend", () => {
  const svg = renderChart(spec);
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  assert.ok(svg.trimEnd().endsWith("</svg>"));
  assertWellFormed(svg);
  for (const name of ["p50", "p99", "approved"]) {
    assert.ok(svg.includes(`data-name="${name}"`), `series ${name}`);
    assert.ok(svg.includes(`>${name}</text>`), `legend ${name}`);
  }
  assert.ok(svg.includes("Latency &amp; throughput &lt;test&gt;"), "title escaped");
  assert.ok(svg.includes(">warm-up</text>"), "band label");
});

Deno.test("renderChart: a NaN point splits the line; a lone point becomes a dot", () => {
  const svg = renderChart(spec);
  const p50 = svg.slice(svg.indexOf('data-name="p50"'), svg.indexOf('data-name="p99"'));
  assert.equal((p50.match(/<polyline/g) ?? []).length, 1, "points 0-1 form one line");
  assert.equal((p50.match(/<circle/g) ?? []).length, 1, "point 3 alone is a dot");
  const p99 = svg.slice(svg.indexOf('data-name="p99"'));
  const pts = /points="([^"]+)"/.exec(p99)![1]!.split(" ");
  assert.equal(pts.length, 4);
  // y grows downwards: the 90 ms point is above (smaller y than) the 40 ms one.
  const y = (i: number) => Number(pts[i]!.split(",")[1]);
  assert.ok(y(1) < y(0));
});

Deno.test("renderChart: empty panels still render", () => {
  const svg = renderChart({
    title: "t",
    xLabel: "x",
    panels: [{ title: "p", yLabel: "y", series: [] }],
  });
  assertWellFormed(svg);
});

Deno.test("niceStep and escapeXml", () => {
  assert.equal(niceStep(100, 5), 20);
  assert.equal(niceStep(7, 5), 2);
  assert.equal(niceStep(0), 1);
  assert.equal(escapeXml(`a<b & "c" 'd'>`), "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;");
});
