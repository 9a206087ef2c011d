/** Live admin endpoint probe: GET /status of each holdfast instance (pool, workers, admission). */
import { redactUrl } from "../../telemetry/index.js";

/** A worker as /status reports it; every field optional, since the doctor judges only what is there. */
export interface AdminWorker {
  id?: number;
  pid?: number;
  state?: string;
  uptimeS?: number;
  requests?: number;
  inflight?: number;
  rssBytes?: number;
  eventLoopLagMs?: number;
  restarts?: number;
  db?: {
    dialect?: string;
    url?: string;
    pool?: { size: number; busy: number; idle?: number; waiting?: number; max: number; utilization?: number; timeouts?: number };
    sqlite?: { path?: string; walBytes?: number; journalMode?: string; lockTimeouts?: number };
  };
  admission?: { limit?: number; inflight?: number; queued?: number; shed?: number };
}

/** The /status snapshot. */
export interface AdminStatus {
  instance?: { pid?: number; startedAt?: string; uptimeS?: number };
  workers?: AdminWorker[];
  counters?: { requests?: number; timeouts?: number; crashes?: number; restarts?: number; recycles?: number; shed?: number; status?: Record<string, number> };
}

/** Result of probing one admin endpoint. */
export interface AdminProbe {
  url: string;
  status?: AdminStatus | undefined;
}

/** Fetches /status (5 s timeout); throws with a readable message when unreachable or unauthorised. */
export async function probeAdmin(url: string, token?: string): Promise<AdminProbe> {
  const base = url.replace(/\/+$/, "").replace(/\/status$/, "");
  const shown = redactUrl(base).replace(/\/+$/, "");
  const res = await fetch(`${base}/status`, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(5000) }).catch(
    (err: Error) => {
      // fetch's own messages quote the URL it was given, credentials included.
      throw new Error(`${shown}/status could not be fetched: ${err.message.split(base).join(shown)}`, { cause: err });
    },
  );
  if (res.status === 401 || res.status === 403) throw new Error(`${shown}/status answered ${res.status}: pass --admin-token or set HOLDFAST_ADMIN_TOKEN`);
  if (!res.ok) throw new Error(`${shown}/status answered ${res.status}`);
  const body = (await res.json()) as unknown;
  if (typeof body !== "object" || body === null) throw new Error(`${shown}/status did not return a JSON object`);
  const s = body as AdminStatus;
  return { url: shown, status: { ...s, workers: Array.isArray(s.workers) ? s.workers : [] } };
}
