/**
 * The parts of the admin endpoint's /status document the monitor reads, validated loosely:
 * an older or newer holdfast may add or omit fields, and the monitor must still draw what it can.
 */
import { z } from "zod";

const num = z.number().catch(0);

const poolSchema = z.looseObject({
  size: num,
  busy: num,
  idle: num,
  waiting: num,
  max: num,
  utilization: num,
  timeouts: num,
  queueFull: num,
});

const sqliteSchema = z.looseObject({
  walBytes: num,
  lockWaits: num,
  lockTimeouts: num,
  writeQueue: num,
});

const admissionSchema = z.looseObject({
  mode: z.string().catch("?"),
  limit: num,
  inflight: num,
  queued: num,
  queueDelayMs: num,
  shed: z.record(z.string(), z.number()).catch({}),
});

const workerSchema = z.looseObject({
  id: num,
  pid: num,
  state: z.string().catch("?"),
  uptimeS: num,
  requests: num,
  inflight: num,
  rssBytes: num,
  eventLoopLagMs: num,
  restarts: num,
  lastHeartbeatMsAgo: num,
  db: z
    .looseObject({ dialect: z.string().optional(), pool: poolSchema.optional(), sqlite: sqliteSchema.optional().nullable() })
    .optional()
    .nullable()
    .catch(undefined),
  admission: admissionSchema.optional().nullable().catch(undefined),
});

/** Schema of what the monitor reads from /status. */
const statusSchema = z.looseObject({
  instance: z.looseObject({
    pid: num,
    uptimeS: num,
    phase: z.string().catch("?"),
    version: z.string().catch("?"),
  }),
  ready: z.boolean().catch(false),
  workers: z.array(workerSchema).catch([]),
  counters: z.looseObject({
    requests: num,
    status: z.record(z.string(), z.number()).catch({}),
    shed: num,
    timeouts: num,
    crashes: num,
    restarts: num,
    recycles: num,
    reloads: num,
  }),
  events: z.array(z.looseObject({ time: z.string().catch(""), event: z.string().catch("?") })).catch([]),
});

/** The /status document as the monitor reads it. */
export type InstanceStatus = z.infer<typeof statusSchema>;

/** One worker as read from /status. */
export type WorkerStatus = InstanceStatus["workers"][number];

/** Validates a parsed /status body; throws an Error naming the first field that did not fit. */
export function readStatus(body: unknown): InstanceStatus {
  const r = statusSchema.safeParse(body);
  if (r.success) return r.data;
  const first = r.error.issues[0];
  throw new Error(`/status is not a holdfast status document (${first?.path.join(".") || "root"}: ${first?.message ?? "invalid"})`);
}
