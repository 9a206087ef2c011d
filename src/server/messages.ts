/** IPC messages between the supervisor and its workers (process.send over the cluster channel). */
import type { CacheStatus } from "../cache/index.js";
import type { DatabaseStatus } from "../db/types.js";
import type { MetricsSnapshot } from "../telemetry/index.js";
import type { AdmissionStatus } from "./admission/index.js";

/** The live numbers a worker reports with each heartbeat. */
export interface WorkerStats {
  requests: number;
  inflight: number;
  status: Record<string, number>;
  rssBytes: number;
  heapUsedBytes: number;
  /** Event-loop delay p99 over the last interval, ms. */
  eventLoopLagMs: number;
  /** Oldest in-flight requests (at most 20). */
  oldest: { reqId: string; method: string; path: string; ageMs: number }[];
  db?: DatabaseStatus | undefined;
  cache?: CacheStatus | undefined;
  admission?: AdmissionStatus | undefined;
}

/** Worker → supervisor. */
export type WorkerMessage =
  | { hf: "ready"; port: number }
  | { hf: "heartbeat"; stats: WorkerStats; metrics?: MetricsSnapshot }
  | { hf: "start-failed"; code: string; message: string; stack?: string | undefined }
  | { hf: "fatal"; message: string }
  | { hf: "recycle"; reason: "maxRequests"; requests: number }
  /** Draining, nothing in flight; `idleSockets` kept-alive sockets still wait for their client to close them. */
  | { hf: "drained"; idleSockets: number };

/** Supervisor → worker. */
export type SupervisorMessage = { hf: "drain"; reason: "reload" | "shutdown" | "recycle" | "fatal" | "timeout" };

/** True for messages holdfast sends (apps may use the channel too). */
export function isWorkerMessage(m: unknown): m is WorkerMessage {
  return typeof m === "object" && m !== null && typeof (m as { hf?: unknown }).hf === "string";
}
