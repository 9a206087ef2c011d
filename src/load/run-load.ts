/**
 * The load generator: open loop (a constant-rate schedule that does not wait for responses;
 * latency measured from each request's *scheduled* send time, so a stalled server cannot hide
 * its queue by slowing the client down: no coordinated omission, as in wrk2/HdrHistogram) or
 * closed loop (N clients back to back). It reports its own schedule lag so a saturated
 * generator is never mistaken for a slow server.
 */
import { redactUrl } from "../telemetry/index.js";
import { Collector } from "./collector.js";
import { Connections, dispatch } from "./connections.js";
import { Schedule } from "./schedule.js";
import type { LoadOptions, LoadResult, RequestSpec } from "./types.js";

/** Error code of a failed request, folded to a few names an operator recognises. */
function errorCode(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT" || code === "UND_ERR_CONNECT_TIMEOUT") return "timeout";
  if (code === "UND_ERR_DESTROYED" || code === "UND_ERR_CLOSED") return "timeout";
  if (typeof code === "string") return code;
  return (err as Error)?.name ?? "Error";
}

interface Sender {
  conns: Connections;
  specFor(i: number): RequestSpec;
  timeoutMs: number;
}

function makeSender(o: LoadOptions, connections: number): Sender {
  const u = new URL(o.url);
  const timeoutMs = o.timeoutMs ?? 60_000;
  const defaultSpec: RequestSpec = { method: "GET", path: `${u.pathname}${u.search}` };
  return { conns: new Connections(u.origin, connections, timeoutMs), specFor: o.request ?? (() => defaultSpec), timeoutMs };
}

/** Sends one request on a free connection (the caller checked there is one); resolves to the status code. */
function send(s: Sender, spec: RequestSpec): Promise<number> {
  const client = s.conns.acquire();
  if (!client) return Promise.reject(new Error("no free connection"));
  return new Promise((resolve, reject) => {
    dispatch(client, spec, (status, err) => {
      s.conns.release(client);
      if (status === undefined) reject(err);
      else resolve(status);
    });
  });
}

/** Runs a load test and resolves to its result; never rejects for server-side failures (they are counted). */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  return (o.mode ?? "open") === "closed" ? runClosed(o) : runOpen(o);
}

async function runOpen(o: LoadOptions): Promise<LoadResult> {
  const stages = o.stages ?? [{ rate: o.rate ?? 0, durationMs: o.durationMs }];
  if (!o.stages && !((o.rate ?? 0) > 0)) throw new RangeError("open-loop load needs a rate above 0 requests/s");
  const schedule = new Schedule(stages);
  const durationMs = schedule.durationMs;
  const connections = o.connections ?? 256;
  const s = makeSender(o, connections);
  const total = schedule.total;
  const waiting: { i: number; scheduled: number }[] = [];
  let waitingHead = 0;
  let inflight = 0;
  let next = 0;
  let lastDone = 0;
  let stopped = false;
  const stamp = o.stampRequestStart === true;
  const start = performance.now();
  const c = new Collector(start);

  let finish: () => void = () => {};
  const done = new Promise<void>((r) => {
    finish = r;
  });
  const checkDone = () => {
    if (next >= total && inflight === 0 && waitingHead >= waiting.length) finish();
  };

  const onDone = (scheduled: number, status: number | undefined, err: unknown): void => {
    lastDone = performance.now();
    if (status !== undefined) c.response(status, lastDone - scheduled, lastDone);
    else c.error(errorCode(err), lastDone);
    inflight--;
    if (!stopped && waitingHead < waiting.length) {
      const w = waiting[waitingHead];
      waiting[waitingHead++] = undefined as unknown as { i: number; scheduled: number };
      if (w) start1(w.i, w.scheduled);
      if (waitingHead > 4096 && waitingHead * 2 > waiting.length) {
        waiting.splice(0, waitingHead);
        waitingHead = 0;
      }
    }
    checkDone();
  };

  // Callbacks, not promises: at thousands of requests a second the generator's own overhead is what lags.
  const start1 = (i: number, scheduled: number): void => {
    const client = s.conns.acquire();
    if (!client) {
      waiting.push({ i, scheduled });
      c.clientQueued++;
      return;
    }
    inflight++;
    let spec = s.specFor(i);
    // The time it is sent, as a proxy stamps the time it received a request: the generator's own lag
    // (a busy machine) is not time the server kept it waiting, and counting it made a server shed
    // requests for lateness it could not cause.
    if (stamp) spec = { ...spec, headers: { ...spec.headers, "x-request-start": `t=${Math.round(performance.timeOrigin + performance.now())}` } };
    dispatch(client, spec, (status, err) => {
      s.conns.release(client);
      onDone(scheduled, status, err);
    });
  };

  let lastTick = start;
  const tick = (): void => {
    const now = performance.now();
    // Send everything whose scheduled time has come; lateness is the generator's own lag.
    while (next < total) {
      const scheduled = start + schedule.at(next);
      if (scheduled > now) break;
      c.lag.record(now - scheduled);
      c.markSent(scheduled);
      if (waitingHead < waiting.length) {
        // Others are already waiting for a connection: keep their order.
        waiting.push({ i: next, scheduled });
        c.clientQueued++;
      } else start1(next, scheduled);
      next++;
    }
    if (o.onTick && now - lastTick >= 1000) {
      lastTick = now;
      o.onTick({ elapsedMs: now - start, totalMs: durationMs, sent: c.sent, completed: c.completed, inflight, failed: c.failed });
    }
    if (next >= total) {
      checkDone();
      return;
    }
    // A 1 ms timer, not setImmediate, for sub-millisecond intervals: spinning on setImmediate burns
    // the whole core, which starves the proxy or server sharing it; sending what is due once a
    // millisecond costs at most ~1 ms of schedule lag, and the lag is measured either way.
    const wait = start + schedule.at(next) - performance.now();
    if (wait <= 0) setImmediate(tick);
    // At most a second: a pause stage (rate 0) still gets its once-a-second progress.
    else setTimeout(tick, Math.min(1000, Math.max(1, Math.floor(wait))));
  };
  tick();

  // Bounded drain: whatever has not answered a timeout after sending stopped is a timeout.
  const drainLimit = setTimeout(finish, durationMs + s.timeoutMs + 5_000);
  await done;
  clearTimeout(drainLimit);
  stopped = true;
  for (let k = 0; k < waiting.length - waitingHead; k++) c.error("timeout");
  // Destroying the pool fails what is still in flight; each is counted as a timeout by its handler.
  await s.conns.close(true);
  for (let k = 0; k < 100 && inflight > 0; k++) await new Promise((r) => setTimeout(r, 10));
  const windowMs = Math.max(durationMs, (lastDone || start) - start);
  const offered = o.stages ? Math.round((total / (durationMs / 1000)) * 10) / 10 : (o.rate as number);
  const r = c.result({ url: redactUrl(o.url), mode: "open", offered_rps: offered, connections }, windowMs, o.percentiles);
  if (o.stages) r.stages = o.stages.map((x) => ({ duration_s: x.durationMs / 1000, rate: x.rate }));
  return r;
}

async function runClosed(o: LoadOptions): Promise<LoadResult> {
  const connections = o.connections ?? 16;
  const s = makeSender(o, connections);
  const start = performance.now();
  const c = new Collector(start);
  const end = start + o.durationMs;
  let i = 0;
  let lastTick = start;
  const client = async (): Promise<void> => {
    while (performance.now() < end) {
      const t0 = performance.now();
      c.markSent(t0);
      c.lag.record(0);
      try {
        const code = await send(s, s.specFor(i++));
        const at = performance.now();
        c.response(code, at - t0, at);
      } catch (err) {
        c.error(errorCode(err));
      }
      const now = performance.now();
      if (o.onTick && now - lastTick >= 1000) {
        lastTick = now;
        o.onTick({ elapsedMs: now - start, totalMs: o.durationMs, sent: c.sent, completed: c.completed, inflight: connections, failed: c.failed });
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, client));
  const windowMs = performance.now() - start;
  await s.conns.close();
  const r = c.result({ url: redactUrl(o.url), mode: "closed", offered_rps: 0, connections }, windowMs, o.percentiles);
  r.offered_rps = r.throughput_rps + Math.round(((r.status.error ?? 0) / (windowMs / 1000)) * 10) / 10;
  return r;
}
