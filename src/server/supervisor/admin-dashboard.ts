/**
 * The admin endpoint's web dashboard: a static page, its script and style (assets/dashboard/
 * in the package) and uPlot (the charting library, from its npm package: nothing is fetched
 * from the network, so the page works on an offline host). Files are read once, at start.
 * The page draws /history at once and then follows /events.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { ServerResponse } from "node:http";

/** Only this origin's scripts, styles and connections; no inline script, no frames, no forms. */
export const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

interface Asset {
  type: string;
  body: Buffer;
}

const require = createRequire(import.meta.url);
const ASSET_DIR = new URL("../../../assets/dashboard/", import.meta.url);

function load(): Map<string, Asset> {
  const own = (name: string, type: string): [string, Asset] => [name, { type, body: readFileSync(new URL(name, ASSET_DIR)) }];
  return new Map<string, Asset>([
    own("index.html", "text/html; charset=utf-8"),
    own("dashboard.js", "text/javascript; charset=utf-8"),
    own("dashboard.css", "text/css; charset=utf-8"),
    ["uplot.js", { type: "text/javascript; charset=utf-8", body: readFileSync(require.resolve("uplot/dist/uPlot.iife.min.js")) }],
    ["uplot.css", { type: "text/css; charset=utf-8", body: readFileSync(require.resolve("uplot/dist/uPlot.min.css")) }],
  ]);
}

let assets: Map<string, Asset> | undefined;

/** Serves `/` (the page) or `/assets/<file>`; returns false when the path is neither. */
export function serveDashboard(path: string, res: ServerResponse): boolean {
  const name = path === "/" || path === "/dashboard" ? "index.html" : path.startsWith("/assets/") ? path.slice("/assets/".length) : undefined;
  if (name === undefined) return false;
  assets ??= load();
  const a = assets.get(name);
  if (!a) return false;
  res.writeHead(200, {
    "content-type": a.type,
    "content-length": a.body.length,
    "cache-control": name === "index.html" ? "no-store" : "max-age=300",
    "content-security-policy": DASHBOARD_CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
  });
  res.end(a.body);
  return true;
}
