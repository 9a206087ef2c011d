/**
 * Small inline SVG line charts for the HTML report: no script, no CDN, so the file opens anywhere,
 * prints, and can be attached to a post-mortem as it is.
 */

/** One line of a chart. */
export interface ChartSeries {
  name: string;
  color: string;
  /** [x, y] pairs; a null y leaves a gap (no reading that second). */
  points: readonly (readonly [number, number | null])[];
}

/** What to draw. */
export interface ChartSpec {
  title: string;
  /** Unit of the y axis, e.g. "ms", "req/s", "%". */
  unit: string;
  series: readonly ChartSeries[];
  /** A horizontal line, e.g. the SLO threshold. */
  threshold?: { value: number; label: string } | undefined;
}

const W = 720;
const H = 220;
const PAD = { l: 56, r: 12, t: 28, b: 28 };

/** Escapes text for HTML and SVG. */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A "nice" upper bound for the axis (1, 2, 5 × 10^n). */
function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function label(v: number): string {
  return v >= 1000 ? `${Math.round(v / 100) / 10}k` : Number.isInteger(v) ? String(v) : v.toFixed(1);
}

/** Renders one chart as an <svg> element with a legend. */
export function lineChart(c: ChartSpec): string {
  const xs = c.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = c.series.flatMap((s) => s.points.map((p) => p[1]).filter((y): y is number => y !== null));
  const xMax = Math.max(1, ...xs);
  const dataMax = Math.max(0, ...ys);
  // A threshold far above the data (p99<5s over 50 ms latencies) would flatten every line: say it in words instead.
  const drawThreshold = c.threshold !== undefined && (dataMax === 0 || c.threshold.value <= dataMax * 2);
  const yMax = niceMax(Math.max(dataMax, drawThreshold ? (c.threshold?.value ?? 0) : 0));
  const iw = W - PAD.l - PAD.r;
  const ih = H - PAD.t - PAD.b;
  const X = (x: number) => PAD.l + (x / xMax) * iw;
  const Y = (y: number) => PAD.t + ih - (y / yMax) * ih;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(c.title)}">`);
  parts.push(`<text x="${PAD.l}" y="16" class="t">${esc(c.title)} (${esc(c.unit)})</text>`);
  for (let k = 0; k <= 4; k++) {
    const v = (yMax * k) / 4;
    parts.push(
      `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${Y(v).toFixed(1)}" y2="${Y(v).toFixed(1)}" class="g"/><text x="${PAD.l - 6}" y="${(Y(v) + 4).toFixed(1)}" class="a" text-anchor="end">${label(v)}</text>`,
    );
  }
  const step = Math.max(1, niceMax(xMax / 8));
  for (let x = 0; x <= xMax; x += step) parts.push(`<text x="${X(x).toFixed(1)}" y="${H - 8}" class="a" text-anchor="middle">${label(x)}s</text>`);
  if (c.threshold && !drawThreshold)
    parts.push(`<text x="${W - PAD.r}" y="16" class="a" text-anchor="end">${esc(c.threshold.label)}: far above this chart</text>`);
  if (c.threshold && drawThreshold) {
    const y = Y(c.threshold.value).toFixed(1);
    parts.push(
      `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y}" y2="${y}" class="th"/><text x="${W - PAD.r}" y="${Number(y) - 4}" class="a" text-anchor="end">${esc(c.threshold.label)}</text>`,
    );
  }
  for (const s of c.series) {
    // Gaps (null) split the line into runs, so a missing reading is not drawn as a zero.
    let d = "";
    let pen = false;
    for (const [x, y] of s.points) {
      if (y === null) {
        pen = false;
        continue;
      }
      d += `${pen ? "L" : "M"}${X(x).toFixed(1)} ${Y(y).toFixed(1)}`;
      pen = true;
    }
    parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.8"><title>${esc(s.name)}</title></path>`);
  }
  parts.push("</svg>");
  const legend = c.series.map((s) => `<span><i style="background:${s.color}"></i>${esc(s.name)}</span>`).join("");
  return `<figure>${parts.join("")}<figcaption>${legend}</figcaption></figure>`;
}
