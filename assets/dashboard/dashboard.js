// holdfast admin dashboard: draws /history at once, then follows /events (one sample a second).
// Plain browser script (no build step, no network but this admin endpoint); uPlot draws the charts.
"use strict";
(() => {
  const WINDOW_S = 900;
  const $ = (id) => document.getElementById(id);
  const state = { samples: [], events: [], alerts: [], status: undefined, banner: undefined, connected: false };
  const charts = {};

  // ---- formatting -------------------------------------------------------------------------
  const num = (v, d = 1) => (v === undefined || v === null || Number.isNaN(v) ? "–" : v >= 100 ? Math.round(v).toLocaleString("en") : v.toFixed(d));
  const fmtRate = (v) => num(v, v < 10 ? 1 : 0);
  const fmtMs = (v) => (v === undefined || v === null ? "–" : v >= 1000 ? `${(v / 1000).toFixed(v >= 10000 ? 0 : 2)} s` : `${v >= 10 ? Math.round(v) : v.toFixed(1)} ms`);
  const fmtBytes = (v) => (v === undefined || v === null ? "–" : v >= 1073741824 ? `${(v / 1073741824).toFixed(2)} GB` : `${Math.round(v / 1048576)} MB`);
  const fmtPct = (v) => (v === undefined || v === null ? "–" : `${(v * 100).toFixed(v < 0.1 ? 1 : 0)} %`);
  const fmtAgo = (s) => (s < 90 ? `${Math.round(s)} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`);
  const hhmmss = (iso) => new Date(iso).toLocaleTimeString("en-GB", { hour12: false });
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };

  // ---- charts -----------------------------------------------------------------------------
  const COLORS = { ok: "#1f8a4c", c4xx: "#d69e2e", c5xx: "#c62828", shed: "#7b3fb5", c504: "#dd6b20", p50: "#2b6cb0", p95: "#d69e2e", p99: "#c62828" };
  const WORKER_COLORS = ["#2b6cb0", "#1f8a4c", "#c05621", "#7b3fb5", "#b83280", "#2c7a7b", "#744210", "#4a5568"];
  const workerIds = () => {
    const ids = new Set();
    for (const s of state.samples) for (const k of Object.keys(s.rssBytes)) ids.add(k);
    return [...ids].sort((a, b) => Number(a) - Number(b));
  };
  const total = (s) => s.ok + s.c4xx + s.c5xx + s.shed + s.c504;
  const orNull = (v) => (v === undefined || v === null ? null : v);

  // Each chart: its series (label, colour, how to read a sample, how to print a value) and y scales.
  const DEFS = [
    {
      id: "chart-requests",
      series: () => [
        { label: "2xx/3xx", stroke: COLORS.ok, get: (s) => s.ok, fmt: fmtRate },
        { label: "4xx", stroke: COLORS.c4xx, get: (s) => s.c4xx, fmt: fmtRate },
        { label: "5xx", stroke: COLORS.c5xx, get: (s) => s.c5xx, fmt: fmtRate },
        { label: "503 shed", stroke: COLORS.shed, get: (s) => s.shed, fmt: fmtRate },
        { label: "504", stroke: COLORS.c504, get: (s) => s.c504, fmt: fmtRate },
      ],
      yFmt: fmtRate,
    },
    {
      id: "chart-latency",
      series: () => [
        { label: "p50", stroke: COLORS.p50, get: (s) => (s.p50Ms > 0 ? s.p50Ms : null), fmt: fmtMs },
        { label: "p95", stroke: COLORS.p95, get: (s) => (s.p95Ms > 0 ? s.p95Ms : null), fmt: fmtMs },
        { label: "p99", stroke: COLORS.p99, get: (s) => (s.p99Ms > 0 ? s.p99Ms : null), fmt: fmtMs },
      ],
      yFmt: fmtMs,
      log: true,
    },
    {
      id: "chart-admission",
      series: () => [
        { label: "in flight", stroke: "#2b6cb0", get: (s) => s.inflight, fmt: (v) => num(v, 0), fill: "rgba(43,108,176,.10)" },
        { label: "admission limit", stroke: "#4a5568", dash: [6, 4], get: (s) => orNull(s.limit), fmt: (v) => num(v, 0) },
      ],
      yFmt: (v) => num(v, 0),
    },
    {
      id: "chart-pool",
      series: () => [
        { label: "utilisation", stroke: "#2c7a7b", get: (s) => (s.pool === undefined || s.pool === null ? null : s.pool * 100), fmt: (v) => (v === null || v === undefined ? "–" : `${Math.round(v)} %`), fill: "rgba(44,122,123,.10)" },
        { label: "waiting", stroke: "#c62828", get: (s) => orNull(s.waiting), fmt: (v) => num(v, 0), scale: "n" },
      ],
      yFmt: (v) => `${Math.round(v)} %`,
      yRange: [0, 100],
      empty: "The app has not opened a database yet (holdfast's db).",
      second: { scale: "n", fmt: (v) => num(v, 0) },
    },
    {
      id: "chart-locks",
      series: () => [
        { label: "lock waits/s", stroke: "#d69e2e", get: (s) => orNull(s.lockWaits), fmt: fmtRate },
        { label: "lock timeouts/s", stroke: "#c62828", get: (s) => orNull(s.lockTimeouts), fmt: fmtRate },
      ],
      yFmt: fmtRate,
      empty: "No SQLite database open (PostgreSQL has no file locks to wait for).",
    },
    {
      id: "chart-lag",
      series: () => workerIds().map((id, i) => ({ label: `worker ${id}`, stroke: WORKER_COLORS[i % WORKER_COLORS.length], get: (s) => orNull(s.lagMs[id]), fmt: fmtMs })),
      yFmt: fmtMs,
    },
    {
      id: "chart-rss",
      series: () => workerIds().map((id, i) => ({ label: `worker ${id}`, stroke: WORKER_COLORS[i % WORKER_COLORS.length], get: (s) => orNull(s.rssBytes[id]), fmt: fmtBytes })),
      yFmt: fmtBytes,
    },
  ];

  function nowS() {
    const last = state.samples[state.samples.length - 1];
    return last ? last.t : Math.floor(Date.now() / 1000);
  }

  // The time axis shows the last 15 minutes once there are 15 minutes; before that, what there is
  // (at least a minute), so a fresh instance does not draw in a sliver at the right edge.
  function xRange() {
    const now = nowS();
    const first = state.samples.length ? state.samples[0].t : now;
    return [now - Math.min(WINDOW_S, Math.max(60, now - first)), now];
  }

  const pad2 = (n) => String(n).padStart(2, "0");
  function clockLabel(t, withSeconds) {
    const d = new Date(t * 1000);
    return `${pad2(d.getHours())}:${pad2(d.getMinutes())}${withSeconds ? `:${pad2(d.getSeconds())}` : ""}`;
  }

  // Decades only on a log axis (1 ms, 10 ms, 100 ms, 1 s…): uPlot's default draws every minor tick.
  function decades(u, axisIdx, min, max) {
    const out = [];
    for (let v = 10 ** Math.floor(Math.log10(Math.max(min, 1e-3))); v <= max * 1.0001; v *= 10) if (v >= min * 0.9999) out.push(v);
    return out.length ? out : [min, max];
  }

  function showLatest(plot) {
    // Without a cursor over the chart, the legend shows the latest values instead of dashes.
    if (plot.cursor.left < 0 || plot.cursor.left === undefined) plot.setLegend({ idx: Math.max(0, plot.data[0].length - 1) });
  }

  function build(def, box) {
    const series = def.series();
    const width = Math.max(300, box.clientWidth);
    const opts = {
      width,
      height: 200,
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: true, range: () => xRange() },
        y: def.log ? { distr: 3, log: 10, range: (u, min, max) => [10 ** Math.floor(Math.log10(Math.max(min || 1, 0.1))), 10 ** Math.ceil(Math.log10(Math.max(max || 10, 1)))] } : { range: def.yRange ? () => def.yRange : (u, min, max) => [0, Math.max(1, max * 1.1)] },
        ...(def.second ? { [def.second.scale]: { range: (u, min, max) => [0, Math.max(1, max * 1.2)] } } : {}),
      },
      axes: [
        { stroke: "#6b7280", grid: { stroke: "#eef0f3" }, space: 80, values: (u, vals) => vals.map((v) => clockLabel(v, xRange()[1] - xRange()[0] <= 180)) },
        { stroke: "#6b7280", grid: { stroke: "#eef0f3" }, size: 64, values: (u, vals) => vals.map(def.yFmt), ...(def.log ? { splits: decades } : {}) },
        ...(def.second ? [{ scale: def.second.scale, side: 1, stroke: "#6b7280", grid: { show: false }, size: 44, values: (u, vals) => vals.map(def.second.fmt) }] : []),
      ],
      series: [
        { value: (u, v) => (v === null || v === undefined ? "–" : new Date(v * 1000).toLocaleTimeString("en-GB", { hour12: false })) },
        ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: 1.6, fill: s.fill, dash: s.dash, scale: s.scale || "y", spanGaps: false, points: { show: false }, value: (u, v) => s.fmt(v) })),
      ],
    };
    box.replaceChildren();
    const plot = new uPlot(opts, dataFor(series), box);
    showLatest(plot);
    plot.over.addEventListener("mouseleave", () => setTimeout(() => showLatest(plot), 0));
    return { plot, series, key: series.map((s) => s.label).join("|") };
  }

  function dataFor(series) {
    const xs = state.samples.map((s) => s.t);
    return [xs, ...series.map((def) => state.samples.map(def.get))];
  }

  function drawCharts() {
    for (const def of DEFS) {
      const wrap = $(def.id);
      const box = wrap.querySelector(".plot");
      const series = def.series();
      const hasData = series.length > 0 && state.samples.some((s) => series.some((x) => x.get(s) !== null && x.get(s) !== undefined));
      wrap.dataset.points = String(state.samples.length);
      if (!hasData) {
        const why = state.samples.length === 0 ? "waiting for the first samples…" : def.empty || "no data yet";
        if (charts[def.id] || box.textContent !== why) box.replaceChildren(el("div", "empty", why));
        charts[def.id] = undefined;
        wrap.dataset.last = "";
        continue;
      }
      let c = charts[def.id];
      if (!c || c.key !== series.map((s) => s.label).join("|")) c = charts[def.id] = build(def, box);
      else {
        c.plot.setData(dataFor(c.series));
        showLatest(c.plot);
      }
      // For tests and for people reading the DOM: the first series' latest drawn value.
      let last = "";
      for (let i = state.samples.length - 1; i >= 0; i--) {
        const v = c.series[0].get(state.samples[i]);
        if (v !== null && v !== undefined) {
          last = String(v);
          break;
        }
      }
      wrap.dataset.last = last;
    }
  }

  window.addEventListener("resize", () => {
    for (const def of DEFS) {
      const c = charts[def.id];
      if (c) c.plot.setSize({ width: Math.max(300, $(def.id).querySelector(".plot").clientWidth), height: 200 });
    }
  });

  // ---- banner, tiles, workers, events -------------------------------------------------------
  function drawBanner() {
    const b = $("banner");
    let level;
    let title;
    let reasons;
    if (!state.connected && state.samples.length > 0) {
      level = "error";
      title = "Lost the connection to this admin endpoint";
      reasons = ["The page keeps retrying. If holdfast was stopped or restarted, reload the page once it is back."];
    } else if (!state.banner) return;
    else ({ level, title, reasons } = state.banner);
    b.className = `banner ${level}`;
    $("banner-title").textContent = title;
    $("banner-reasons").replaceChildren(...reasons.map((r) => el("li", "", r)));
  }

  function setTile(id, text, level) {
    const t = $(id);
    t.textContent = text;
    t.className = `v${level ? ` ${level}` : ""}`;
  }

  function drawTiles() {
    const s = state.samples[state.samples.length - 1];
    if (s) {
      const all = total(s);
      const errors = s.c5xx + s.shed + s.c504;
      setTile("stat-rps", fmtRate(all));
      setTile("stat-5xx", all > 0 ? fmtPct(errors / all) : "–", all > 0 && errors / all > 0.01 ? "bad" : "");
      setTile("stat-shed", fmtRate(s.shed), s.shed > 0 ? "bad" : "");
      setTile("stat-p99", fmtMs(s.p99Ms), s.p99Ms > 5000 ? "bad" : s.p99Ms > 1000 ? "warn" : "");
      setTile("stat-inflight", s.limit === undefined || s.limit === null ? num(s.inflight, 0) : `${num(s.inflight, 0)} / ${num(s.limit, 0)}`);
      setTile("stat-pool", s.pool === undefined || s.pool === null ? "no db" : `${fmtPct(s.pool)}${s.waiting ? ` · ${s.waiting} wait` : ""}`, s.pool > 0.8 ? "bad" : s.pool > 0.6 ? "warn" : "");
    }
    const st = state.status;
    if (st) {
      const ready = st.workers.filter((w) => w.state === "ready").length;
      setTile("stat-workers", `${ready} / ${st.workers.length}`, ready < st.workers.length ? "warn" : "");
      setTile("stat-restarts", `${st.counters.restarts} · ${st.counters.timeouts}`, st.counters.timeouts > 0 ? "bad" : st.counters.restarts > 0 ? "warn" : "");
    }
  }

  function drawStatus() {
    const st = state.status;
    if (!st) return;
    $("where").textContent = `${st.instance.listen.host}:${st.instance.listen.port} · v${st.instance.version} · pid ${st.instance.pid} · up ${fmtAgo(st.instance.uptimeS)}`;
    document.title = `holdfast ${st.instance.listen.host}:${st.instance.listen.port}`;
    const rows = st.workers.map((w) => {
      const tr = el("tr");
      const pool = w.db && w.db.pool;
      const cells = [
        [w.id],
        [w.pid],
        [w.state, w.state !== "ready" ? "bad" : ""],
        [fmtAgo(w.uptimeS)],
        [w.requests.toLocaleString("en")],
        [w.inflight],
        [fmtBytes(w.rssBytes)],
        [fmtMs(w.eventLoopLagMs), w.eventLoopLagMs > 1000 ? "bad" : ""],
        [w.restarts],
        [pool ? `${pool.busy}/${pool.max}${pool.waiting ? ` (${pool.waiting} wait)` : ""}` : "–"],
        [`${(w.lastHeartbeatMsAgo / 1000).toFixed(1)} s`, w.lastHeartbeatMsAgo > 5000 ? "bad" : ""],
      ];
      for (const [text, cls] of cells) tr.append(el("td", cls || "", String(text)));
      return tr;
    });
    $("workers").tBodies[0].replaceChildren(...rows);
    $("clock").textContent = `updated ${new Date().toLocaleTimeString("en-GB", { hour12: false })}`;
  }

  function describe(e) {
    const w = `worker ${e.slot} (pid ${e.workerPid})`;
    switch (e.event) {
      case "worker.timeout": {
        const inflight = Array.isArray(e.inflight) ? e.inflight : [];
        const list = inflight.slice(0, 3).map((r) => `${r.method} ${r.path} (${r.reqId}, ${fmtMs(r.ageMs)})`).join(", ");
        return ["bad", "watchdog kill", `${w}: event loop stuck ${(e.heartbeatAgeMs / 1000).toFixed(1)} s; killed and replaced${list ? `. In flight: ${list}${inflight.length > 3 ? ", …" : ""}` : ""}`];
      }
      case "worker.exit":
        return [e.reason === "crash" || e.reason === "timeout" ? "warn" : "", "exit", `${w} exited: ${e.reason}${e.code !== null && e.code !== undefined ? `, code ${e.code}` : ""}${e.signal ? `, ${e.signal}` : ""} after ${fmtAgo(e.uptimeS || 0)}`];
      case "worker.fatal":
        return ["bad", "crash", `${w}: uncaught exception: ${e.error}`];
      case "worker.crashloop":
        return ["bad", "crash loop", `${e.crashes} crashes within ${e.windowMs / 1000} s: holdfast stopped restarting workers`];
      case "worker.recycle":
        return ["", "recycle", `${w}: ${e.reason}`];
      case "worker.replace.failed":
        return ["bad", "replace failed", `slot ${e.slot}: ${e.error}`];
      case "reload":
        return [e.phase === "failed" ? "bad" : "", "reload", e.phase === "done" ? `rolling reload done in ${(e.durationMs / 1000).toFixed(1)} s` : e.phase === "failed" ? `reload failed: ${e.error}` : `rolling reload started (${e.workers} workers)`];
      case "supervisor.ready":
        return ["ok", "ready", `holdfast ready: ${e.workers} workers on port ${e.port}`];
      case "shutdown":
        return ["warn", "shutdown", e.phase === "done" ? "all workers stopped" : `shutting down (${e.reason})`];
      default:
        return ["", e.event, JSON.stringify(e)];
    }
  }

  function drawEvents() {
    const items = [
      ...state.events.map((e) => ({ time: e.time, kind: describe(e), stack: e.event === "worker.timeout" ? e.stack : undefined })),
      ...state.alerts.map((a) => ({ time: a.time, kind: [a.status === "firing" ? (a.alert.severity === "critical" ? "bad" : "warn") : "ok", `alert ${a.status}`, `${a.alert.rule}: ${a.alert.summary}`] })),
    ].sort((a, b) => (a.time < b.time ? 1 : -1));
    if (items.length === 0) return;
    $("events").replaceChildren(
      ...items.slice(0, 100).map((it) => {
        const [level, kind, text] = it.kind;
        const li = el("li");
        li.append(el("span", "when", hhmmss(it.time)), el("span", `kind ${level}`, kind), el("span", "", text));
        if (it.stack) {
          const d = el("details");
          d.append(el("summary", "muted", "stack of the stuck worker"), el("pre", "", it.stack));
          li.append(d);
        }
        return li;
      }),
    );
  }

  // ---- data flow --------------------------------------------------------------------------
  function addSample(s) {
    state.samples.push(s);
    const cut = s.t - WINDOW_S;
    while (state.samples.length && state.samples[0].t < cut) state.samples.shift();
  }

  function follow() {
    const es = new EventSource("events");
    es.onopen = () => {
      state.connected = true;
      drawBanner();
    };
    es.onerror = () => {
      state.connected = false;
      drawBanner();
    };
    es.addEventListener("status", (m) => {
      state.status = JSON.parse(m.data);
      drawStatus();
      drawTiles();
    });
    es.addEventListener("sample", (m) => {
      const u = JSON.parse(m.data);
      state.connected = true;
      addSample(u.sample);
      state.banner = u.banner;
      if (u.alerts.length) state.alerts.push(...u.alerts);
      drawBanner();
      drawTiles();
      drawCharts();
      if (u.alerts.length) drawEvents();
    });
    es.addEventListener("supervisor", (m) => {
      state.events.push(JSON.parse(m.data));
      drawEvents();
    });
  }

  async function start() {
    try {
      const r = await fetch("history", { cache: "no-store" });
      if (!r.ok) throw new Error(r.status === 401 ? "this admin endpoint needs its token (admin.token)" : `HTTP ${r.status}`);
      const h = await r.json();
      for (const s of h.samples) addSample(s);
      state.events = h.events;
      state.alerts = h.alerts;
      state.banner = h.banner.level === "loading" ? { level: "loading", title: "Collecting the first samples…", reasons: ["The admin endpoint takes one sample a second; charts fill in as they come."] } : h.banner;
      state.connected = true;
      drawBanner();
      drawTiles();
      drawCharts();
      drawEvents();
      follow();
    } catch (err) {
      const b = $("banner");
      b.className = "banner error";
      $("banner-title").textContent = "Cannot read this admin endpoint's history";
      $("banner-reasons").replaceChildren(el("li", "", `${err.message}. Retrying in 2 s.`));
      setTimeout(start, 2000);
    }
  }
  start();
})();
