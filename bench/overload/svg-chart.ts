/** A small dependency-free SVG chart: goodput and p99 of the 2xx against offered load, one line per stack. */

/** One measured point. */
export interface ChartPoint {
  stack: string;
  multiple: number;
  offered_rps: number;
  goodput_rps: number;
  p99_ms: number;
}

const COLORS: Record<string, string> = { holdfast: "#1f77b4", naive: "#d62728" };
const W = 420;
const H = 300;
const M = { l: 64, r: 16, t: 36, b: 48 };

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
}

function panel(points: ChartPoint[], x0: number, title: string, yOf: (p: ChartPoint) => number, log: boolean, yLabel: string): string {
  const xs = [...new Set(points.map((p) => p.offered_rps))].sort((a, b) => a - b);
  const maxX = Math.max(...xs) * 1.05;
  const ys = points.map(yOf).filter((v) => v > 0);
  const maxY = Math.max(1, ...ys) * (log ? 2 : 1.1);
  const minY = log ? Math.max(0.1, Math.min(...ys) / 2) : 0;
  const px = (x: number) => x0 + M.l + (x / maxX) * (W - M.l - M.r);
  const py = (y: number) => {
    const f = log ? (Math.log10(Math.max(y, minY)) - Math.log10(minY)) / (Math.log10(maxY) - Math.log10(minY)) : (y - minY) / (maxY - minY);
    return H - M.b - f * (H - M.t - M.b);
  };
  const out: string[] = [];
  out.push(`<text x="${x0 + W / 2}" y="20" text-anchor="middle" font-weight="bold">${esc(title)}</text>`);
  out.push(`<line x1="${x0 + M.l}" y1="${H - M.b}" x2="${x0 + W - M.r}" y2="${H - M.b}" stroke="#333"/>`);
  out.push(`<line x1="${x0 + M.l}" y1="${M.t}" x2="${x0 + M.l}" y2="${H - M.b}" stroke="#333"/>`);
  for (const x of xs) {
    const mult = points.find((p) => p.offered_rps === x)?.multiple;
    out.push(`<line x1="${px(x)}" y1="${H - M.b}" x2="${px(x)}" y2="${H - M.b + 4}" stroke="#333"/>`);
    out.push(`<text x="${px(x)}" y="${H - M.b + 16}" text-anchor="middle" font-size="10">${x}</text>`);
    if (mult !== undefined) out.push(`<text x="${px(x)}" y="${H - M.b + 28}" text-anchor="middle" font-size="10" fill="#666">${mult}×</text>`);
  }
  out.push(`<text x="${x0 + M.l + (W - M.l - M.r) / 2}" y="${H - 6}" text-anchor="middle" font-size="11">offered load, req/s (× capacity)</text>`);
  const ticks = log
    ? [0.1, 1, 10, 100, 1000, 10_000, 100_000].filter((v) => v >= minY && v <= maxY)
    : Array.from({ length: 5 }, (_, i) => Math.round(((maxY - minY) * i) / 4 + minY));
  for (const v of ticks) {
    out.push(`<line x1="${x0 + M.l - 4}" y1="${py(v)}" x2="${x0 + W - M.r}" y2="${py(v)}" stroke="#ddd"/>`);
    out.push(`<text x="${x0 + M.l - 6}" y="${py(v) + 3}" text-anchor="end" font-size="10">${v}</text>`);
  }
  out.push(
    `<text x="${x0 + 14}" y="${M.t + (H - M.t - M.b) / 2}" transform="rotate(-90 ${x0 + 14} ${M.t + (H - M.t - M.b) / 2})" text-anchor="middle" font-size="11">${esc(yLabel)}</text>`,
  );
  for (const stack of [...new Set(points.map((p) => p.stack))]) {
    const ps = points.filter((p) => p.stack === stack).sort((a, b) => a.offered_rps - b.offered_rps);
    const color = COLORS[stack] ?? "#555";
    out.push(
      `<polyline fill="none" stroke="${color}" stroke-width="2" points="${ps.map((p) => `${px(p.offered_rps).toFixed(1)},${py(yOf(p)).toFixed(1)}`).join(" ")}"/>`,
    );
    for (const p of ps) out.push(`<circle cx="${px(p.offered_rps).toFixed(1)}" cy="${py(yOf(p)).toFixed(1)}" r="3" fill="${color}"/>`);
  }
  return out.join("\n");
}

/** The whole chart: goodput (linear) and p99 of the 2xx (log scale) side by side, with a legend. */
export function overloadChart(points: ChartPoint[], caption: string): string {
  const stacks = [...new Set(points.map((p) => p.stack))];
  const legend = stacks
    .map(
      (s, i) =>
        `<rect x="${20 + i * 110}" y="${H + 8}" width="12" height="12" fill="${COLORS[s] ?? "#555"}"/><text x="${36 + i * 110}" y="${H + 18}" font-size="12">${esc(s)}</text>`,
    )
    .join("\n");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${H + 48}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="#fff"/>
${panel(points, 0, "Goodput (2xx/s)", (p) => p.goodput_rps, false, "2xx per second")}
${panel(points, W, "p99 latency of the 2xx (log scale)", (p) => p.p99_ms, true, "ms")}
${legend}
<text x="${2 * W - 10}" y="${H + 18}" text-anchor="end" font-size="10" fill="#666">${esc(caption)}</text>
<text x="${2 * W - 10}" y="${H + 36}" text-anchor="end" font-size="10" fill="#666">no 2xx at a load: goodput 0, p99 not drawn above the axis</text>
</svg>
`;
}
