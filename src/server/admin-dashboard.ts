/** The admin endpoint's live page: reads /events and draws workers, counters and recent events. */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>holdfast</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#222;background:#fafafa}
h1{font-size:1.2rem;margin:0 0 .5rem}table{border-collapse:collapse;margin:.5rem 0 1rem;background:#fff}
td,th{border:1px solid #ddd;padding:.25rem .6rem;text-align:right}th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}
.bad{color:#b00020;font-weight:600}.ok{color:#1b7f3b}#events{font:12px ui-monospace,monospace;white-space:pre-wrap;background:#fff;border:1px solid #ddd;padding:.5rem;max-height:20rem;overflow:auto}
</style></head><body>
<h1>holdfast <span id="phase"></span></h1>
<div id="summary"></div>
<table id="workers"><thead><tr><th>worker</th><th>pid</th><th>state</th><th>uptime s</th><th>requests</th><th>in flight</th><th>RSS MB</th><th>loop lag ms</th><th>restarts</th><th>pool busy/size (waiting)</th><th>admission limit</th></tr></thead><tbody></tbody></table>
<h2 style="font-size:1rem">Recent events</h2><div id="events"></div>
<script>
const es = new EventSource("events");
const esc = (s) => String(s).replace(/[&<>]/g, (c) => ({"&":"&amp;","<":"&lt;",">":"&gt;"}[c]));
es.addEventListener("status", (m) => {
  const s = JSON.parse(m.data);
  document.getElementById("phase").innerHTML = s.ready ? '<span class="ok">ready</span>' : '<span class="bad">' + esc(s.instance.phase) + '</span>';
  const c = s.counters;
  document.getElementById("summary").textContent = "requests " + c.requests + " · 5xx " + (c.status["5xx"] || 0) + " · shed " + c.shed + " · worker timeouts " + c.timeouts + " · crashes " + c.crashes + " · restarts " + c.restarts + " · listening on " + s.instance.listen.host + ":" + s.instance.listen.port;
  document.querySelector("#workers tbody").innerHTML = s.workers.map((w) => {
    const p = w.db && w.db.pool; const a = w.admission;
    return "<tr><td>" + w.id + "</td><td>" + w.pid + "</td><td>" + esc(w.state) + "</td><td>" + w.uptimeS + "</td><td>" + w.requests + "</td><td>" + w.inflight + "</td><td>" + (w.rssBytes / 1048576).toFixed(0) + "</td><td" + (w.eventLoopLagMs > 100 ? ' class="bad"' : "") + ">" + w.eventLoopLagMs + "</td><td>" + w.restarts + "</td><td>" + (p ? p.busy + "/" + p.size + " (" + p.waiting + ")" : "–") + "</td><td>" + (a ? a.limit : "–") + "</td></tr>";
  }).join("");
  document.getElementById("events").textContent = s.events.slice().reverse().map((e) => e.time + "  " + e.event + "  " + JSON.stringify(Object.fromEntries(Object.entries(e).filter(([k]) => k !== "time" && k !== "event" && k !== "stack")))).join("\\n");
});
</script></body></html>`;
