// The admin endpoint's web dashboard in a real browser (headless Chromium, driven by
// playwright-core) against a real `holdfast serve` under bounded loopback load: the charts
// fill from /history and move with /events, a watchdog kill turns the banner red, history
// survives a page reload, and the page breaks none of its Content-Security-Policy.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { chromium, type Page } from "playwright-core";
import { eventually, FIXTURES, startHoldfast } from "./support/holdfast-process.js";
import { requireBinary } from "./support/require-service.js";
import { traffic } from "./support/traffic.js";

const APP = join(FIXTURES, "basic.mjs");
/** Screenshots land here (kept after the run so a person can look at them). */
const OUT = process.env.HOLDFAST_TEST_OUTPUT ? join(process.env.HOLDFAST_TEST_OUTPUT, "dashboard") : join(tmpdir(), "holdfast-test-output", "dashboard");
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

async function chartState(page: Page, id: string): Promise<{ points: number; last: number | undefined }> {
  return page.evaluate((sel) => {
    const d = (document.getElementById(sel) as HTMLElement).dataset;
    return { points: Number(d.points ?? 0), last: d.last === undefined || d.last === "" ? undefined : Number(d.last) };
  }, id);
}

test("dashboard: live charts under load, red banner on a watchdog kill, history survives a reload", async (t) => {
  const exe = requireBinary(t, "chromium", ["/usr/bin/chromium"]);
  if (!exe) return;
  mkdirSync(OUT, { recursive: true });
  const hf = await startHoldfast(APP, { workers: 2, env: { HOLDFAST_TIMEOUTS_HEARTBEAT: "2s" } });
  let loading = true;
  const load = traffic(hf.appUrl, ["/", "/slow?ms=15", "/", "/slow?ms=80"], () => loading, { maxMs: 90_000, concurrency: 3, requestTimeoutMs: 10_000 });
  const browser = await chromium.launch({ executablePath: exe, args: CHROMIUM_ARGS, timeout: 30_000 });
  const problems: string[] = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    // The promise below is the page's: opened on a service whose traffic the supervisor has counted,
    // it draws at once from /history. Counting waits for the workers' heartbeats (2 s here), which
    // a page opened in the first second of traffic waited for too (2.4 s on a slow machine).
    await eventually(
      async () => {
        const h = (await (await fetch(`${hf.adminUrl}/history`)).json()) as { samples: { ok: number }[] };
        return h.samples.some((x) => x.ok > 0);
      },
      20_000,
      "traffic counted in /history",
    );
    const opened = performance.now();
    await page.goto(`${hf.adminUrl}/`);
    // Never a blank page: the banner says what it is waiting for before any data arrives.
    assert.match((await page.locator("#banner-title").textContent()) ?? "", /\S/);
    // A user who opens the printed dashboard URL sees live charts at once (within 3 s on a busy machine).
    await eventually(async () => ((await chartState(page, "chart-requests")).last ?? 0) > 0, 20_000, "first request-chart point");
    const firstChartMs = performance.now() - opened;
    t.diagnostic(`request chart drawn ${firstChartMs.toFixed(0)} ms after the page was opened`);
    // 3 s on the test machine: a headless Chromium on a busy 2-core VM drew it in 1.0–1.6 s alone and
    // 2.05 s beside the rest of the suite (CI run of 2026-11-30 13:48); a regression (a page waiting
    // for /events instead of drawing /history) takes a heartbeat or more on top of that.
    assert.ok(firstChartMs <= 3000, `the first chart point took ${firstChartMs.toFixed(0)} ms (at most 3000)`);

    // The request chart has points and a non-zero rate; then its numbers move.
    await eventually(
      async () => {
        const s = await chartState(page, "chart-requests");
        return s.points >= 3 && (s.last ?? 0) > 0;
      },
      20_000,
      "request chart with traffic",
    );
    const before = await chartState(page, "chart-requests");
    const rpsBefore = await page.locator("#stat-rps").textContent();
    const moved = await eventually(
      async () => {
        const s = await chartState(page, "chart-requests");
        return s.points >= before.points + 3 && s.last !== before.last ? s : undefined;
      },
      15_000,
      "request chart moving",
    );
    assert.ok((moved.last ?? 0) > 0);
    assert.notEqual(await page.locator("#stat-rps").textContent(), "–", `rps tile was ${rpsBefore}`);
    assert.ok(((await chartState(page, "chart-latency")).last ?? 0) > 0, "latency p50 drawn");
    assert.ok(((await chartState(page, "chart-rss")).last ?? 0) > 10_000_000, "RSS per worker drawn");
    assert.equal(await page.locator("#chart-requests canvas").count(), 1);
    const bannerClass = (await page.locator("#banner").getAttribute("class")) ?? "";
    assert.match(bannerClass, /\b(ok|warn)\b/, `banner "${bannerClass}" under light load: ${await page.locator("#banner").textContent()}`);
    await page.screenshot({ path: join(OUT, "healthy.png"), fullPage: true });

    // A stuck route: the watchdog kills the worker and the banner turns red with the reason.
    void fetch(`${hf.appUrl}/spin?ms=20000`).catch(() => undefined);
    await page.locator("#banner.bad").waitFor({ timeout: 20_000 });
    assert.match((await page.locator("#banner").textContent()) ?? "", /Watchdog killed worker \d/);
    await eventually(async () => ((await page.locator("#events").textContent()) ?? "").includes("watchdog kill"), 5_000, "kill in the timeline");
    // The stack comes from the worker's stall watchdog thread; when it caught one, the page shows it.
    const kill = (await hf.status()).events.find((e) => e.event === "worker.timeout");
    if (typeof kill?.stack === "string") assert.ok((await page.locator("#events details pre").count()) >= 1, "the stuck stack is in the timeline");
    await page.screenshot({ path: join(OUT, "watchdog-kill.png"), fullPage: true });

    // History survives a reload: the charts are full as soon as /history is read.
    const pointsBeforeReload = (await chartState(page, "chart-requests")).points;
    await page.reload();
    const afterReload = await eventually(
      async () => {
        const s = await chartState(page, "chart-requests");
        return s.points > 0 ? s : undefined;
      },
      5_000,
      "charts after a reload",
    );
    assert.ok(afterReload.points >= pointsBeforeReload - 1, `points after reload ${afterReload.points}, before ${pointsBeforeReload}`);
    assert.match((await page.locator("#banner").getAttribute("class")) ?? "", /\bbad\b/, "still red after the reload");
    assert.deepEqual(problems, [], "no script error and no CSP violation");
    console.log(`screenshots: ${OUT}`);
  } finally {
    loading = false;
    await browser.close();
    await load;
    await hf.stop();
  }
});
