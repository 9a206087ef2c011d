/**
 * Reads one admin endpoint: /status (required) and /metrics (for rates and latency), each
 * bounded by a timeout. Never throws: an unreachable or refusing endpoint becomes a DOWN scrape
 * with the reason a person can act on.
 */
import { extractRequestHistogram } from "./request-histogram.js";
import { parsePrometheusText } from "./prometheus-text.js";
import { redactUrl } from "../telemetry/index.js";
import { readStatus } from "./status-document.js";
import type { Scrape } from "./types.js";

/** How to reach an admin endpoint. */
export interface ScrapeOptions {
  /** Bearer token (admin.token). */
  token?: string | undefined;
  /** Per-request timeout, ms. */
  timeoutMs: number;
  /** Aborts the scrape early (the monitor is stopping). */
  signal?: AbortSignal | undefined;
}

/** Why a fetch of `url` failed, quoting the URL as `redactUrl` shows it (fetch's own messages may quote it whole). */
function describe(err: unknown, rawUrl: string, timeoutMs: number): string {
  const url = redactUrl(rawUrl);
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === "TimeoutError" || e.name === "AbortError") return `no answer from ${url} within ${timeoutMs} ms`;
  const code = e.cause?.code;
  if (code === "ECONNREFUSED") return `connection refused at ${url} (holdfast not running there, or admin on another port)`;
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return `cannot resolve the host of ${url}`;
  if (code === "ECONNRESET") return `connection reset by ${url}`;
  // undici's "other side closed": the server closed the socket with the request out (holdfast stopping).
  if (code === "UND_ERR_SOCKET") return `connection closed by ${url} before it answered`;
  return `${(e.cause?.message ?? e.message).split(rawUrl).join(url)} (${url})`;
}

async function get(url: string, o: ScrapeOptions): Promise<Response> {
  const headers: Record<string, string> = { accept: "application/json, text/plain" };
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  const timeout = AbortSignal.timeout(o.timeoutMs);
  return fetch(url, { headers, signal: o.signal ? AbortSignal.any([timeout, o.signal]) : timeout });
}

function join(base: string, path: string): string {
  return `${base.replace(/\/+$/, "")}${path}`;
}

/** Scrapes /status and /metrics of `target` concurrently. */
export async function scrapeInstance(target: string, o: ScrapeOptions): Promise<Scrape> {
  const statusUrl = join(target, "/status");
  const metricsUrl = join(target, "/metrics");
  // What messages quote: an admin URL may still carry a secret in its query or fragment.
  const shownStatus = redactUrl(statusUrl);
  const [s, m] = await Promise.allSettled([
    (async () => {
      const r = await get(statusUrl, o);
      const text = await r.text();
      if (r.status === 401) throw new Error(`${shownStatus} wants a token: pass --token (admin.token of that instance)`);
      if (!r.ok) throw new Error(`${shownStatus} answered HTTP ${r.status}: ${text.slice(0, 200)}`);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new Error(`${shownStatus} did not answer JSON (is this a holdfast admin endpoint?)`);
      }
      return readStatus(body);
    })(),
    (async () => {
      const r = await get(metricsUrl, o);
      const text = await r.text();
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      return extractRequestHistogram(parsePrometheusText(text));
    })(),
  ]);
  const at = Date.now();
  if (s.status === "rejected") {
    const err = s.reason as Error;
    const known = err.message.startsWith(shownStatus);
    return { ok: false, at, error: known ? err.message : describe(err, statusUrl, o.timeoutMs) };
  }
  if (m.status === "rejected") return { ok: true, at, status: s.value, histogram: undefined, metricsError: describe(m.reason, metricsUrl, o.timeoutMs) };
  return { ok: true, at, status: s.value, histogram: m.value };
}
