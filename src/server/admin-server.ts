/**
 * The admin endpoint, served by the supervisor (default 127.0.0.1:9464): /healthz,
 * /readyz, /status (JSON), /metrics (Prometheus text), /events (Server-Sent Events) and
 * / (a small live dashboard). monitor, doctor and load read this, never the workers.
 */
import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { METRICS_CONTENT_TYPE } from "../telemetry/index.js";
import { DASHBOARD_HTML } from "./admin-dashboard.js";
import type { Supervisor, SupervisorEvent } from "./supervisor.js";

/** The /status document. */
export interface StatusDocument {
  instance: { pid: number; startedAt: string; uptimeS: number; phase: string; listen: { host: string; port: number }; version: string };
  ready: boolean;
  workers: Array<{
    id: number;
    pid: number;
    state: string;
    uptimeS: number;
    requests: number;
    inflight: number;
    rssBytes: number;
    eventLoopLagMs: number;
    restarts: number;
    lastHeartbeatMsAgo: number;
    oldest: { reqId: string; method: string; path: string; ageMs: number }[];
    db?: unknown;
    admission?: unknown;
    cache?: unknown;
  }>;
  counters: { requests: number; status: Record<string, number>; timeouts: number; crashes: number; restarts: number; recycles: number; reloads: number; shed: number };
  events: SupervisorEvent[];
}

/** Builds the /status document from the supervisor's state. */
export function buildStatus(sup: Supervisor, version: string): StatusDocument {
  const now = Date.now();
  const recs = [...sup.slots.values()].sort((a, b) => a.slot - b.slot);
  // Includes the workers that have exited: a reload or a restart never sets these back.
  const { requests, status, shed } = sup.metrics.requestTotals([...recs, ...sup.retiring]);
  return {
    instance: {
      pid: process.pid,
      startedAt: new Date(sup.startedAt).toISOString(),
      uptimeS: Math.round((now - sup.startedAt) / 1000),
      phase: sup.phase,
      listen: { host: sup.config.host, port: sup.listenPort },
      version,
    },
    ready: isReady(sup),
    workers: recs.map((r) => ({
      id: r.slot,
      pid: r.pid,
      state: r.phase,
      uptimeS: Math.round((now - r.startedAt) / 1000),
      requests: r.stats?.requests ?? 0,
      inflight: r.stats?.inflight ?? 0,
      rssBytes: r.stats?.rssBytes ?? 0,
      eventLoopLagMs: r.stats?.eventLoopLagMs ?? 0,
      restarts: sup.restartsBySlot.get(r.slot) ?? 0,
      lastHeartbeatMsAgo: now - r.lastHeartbeat,
      oldest: r.stats?.oldest ?? [],
      db: r.stats?.db,
      admission: r.stats?.admission,
      cache: r.stats?.cache,
    })),
    counters: { requests, status, shed, ...sup.counters },
    events: sup.recent.slice(-50),
  };
}

function isReady(sup: Supervisor): boolean {
  return sup.phase === "running" && [...sup.slots.values()].some((r) => r.phase === "ready");
}

function authorized(req: IncomingMessage, token: string | undefined): boolean {
  if (!token) return true;
  const h = req.headers.authorization ?? "";
  const given = Buffer.from(h.startsWith("Bearer ") ? h.slice(7) : "");
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  res.end(text);
}

/** Starts the admin endpoint; resolves with the server once it listens. */
export async function startAdminServer(sup: Supervisor, version: string): Promise<Server> {
  const { host, port, token } = sup.config.admin;
  const server = createServer(async (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    // Probes stay unauthenticated so a load balancer can use them without the secret.
    if (path === "/healthz") return json(res, 200, { ok: true, phase: sup.phase });
    if (path === "/readyz") {
      const ready = isReady(sup);
      return json(res, ready ? 200 : 503, { ready, phase: sup.phase });
    }
    if (!authorized(req, token)) {
      res.writeHead(401, { "www-authenticate": 'Bearer realm="holdfast admin"', "content-type": "application/json" });
      res.end(JSON.stringify({ error: { code: "ADMIN_UNAUTHORIZED", message: "This admin endpoint needs Authorization: Bearer <admin.token>." } }));
      return;
    }
    try {
      if (path === "/status") return json(res, 200, buildStatus(sup, version));
      if (path === "/metrics") {
        const text = await sup.metrics.text(sup.slots.values(), sup.retiring);
        res.writeHead(200, { "content-type": METRICS_CONTENT_TYPE });
        return res.end(text);
      }
      if (path === "/events") return streamEvents(sup, version, req, res);
      if (path === "/" || path === "/dashboard") {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
        return res.end(DASHBOARD_HTML);
      }
      json(res, 404, { error: { code: "NOT_FOUND", message: `No admin route ${path}. Routes: /healthz /readyz /status /metrics /events /` } });
    } catch (err) {
      json(res, 500, { error: { code: "INTERNAL", message: (err as Error).message } });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) =>
      reject(
        err.code === "EADDRINUSE"
          ? new Error(`admin port ${host}:${port} is already in use (another holdfast?). Set admin.port (--admin-port) to a free port, or 0 to pick one.`)
          : err,
      ),
    );
    server.listen(port, host, () => resolve());
  });
  return server;
}

function streamEvents(sup: Supervisor, version: string, req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
  const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  send("status", buildStatus(sup, version));
  const onEvent = (e: SupervisorEvent) => send("supervisor", e);
  sup.on("event", onEvent);
  const timer = setInterval(() => send("status", buildStatus(sup, version)), 1000);
  req.on("close", () => {
    clearInterval(timer);
    sup.off("event", onEvent);
  });
}
