/**
 * Rescues connections that node:cluster handed to a worker that died before taking them.
 * In round-robin mode the supervisor accepts each connection and sends it to one worker over
 * IPC, then waits for that worker's "accepted" reply before it closes its own copy. A worker
 * whose event loop is stuck never replies, and when it is killed nothing else refers to that
 * connection: the client waits with its request unread until its own timeout. This module
 * watches the hand-offs per worker and, once a dead worker's IPC channel is closed (so every
 * reply it sent has been read), gives each connection it never accepted to a live worker, or
 * closes it when none takes it, so a proxy sees the failure at once.
 *
 * It relies on the shape of node:cluster's internal hand-off message ({ cmd: "NODE_CLUSTER",
 * act: "newconn", key, seq } and the worker's { ack: seq, accepted } reply), unchanged from
 * Node 12 to 24; test/reliability/stuck-worker.test.ts fails if a Node release changes it.
 */
import type { Worker } from "node:cluster";

/** The raw TCP handle node:cluster passes around (a libuv stream the supervisor never reads). */
interface RawHandle {
  close(cb?: () => void): void;
}

interface HandOff {
  key: string;
  handle: RawHandle;
}

interface ClusterMessage {
  cmd?: unknown;
  act?: unknown;
  key?: unknown;
  seq?: unknown;
  ack?: unknown;
  accepted?: unknown;
}

const isClusterMessage = (m: unknown): m is ClusterMessage => typeof m === "object" && m !== null && (m as ClusterMessage).cmd === "NODE_CLUSTER";

/** Our own sequence numbers: strings, so they never collide with node:cluster's numeric ones. */
const RESCUE_SEQ = "holdfast-rescue-";

/** Tracks the connections handed to each worker and not yet accepted by it. */
export class ConnectionRescue {
  readonly #pending = new Map<Worker, Map<unknown, HandOff>>();
  readonly #pick: (exclude: Worker) => Worker | undefined;
  #seq = 0;

  /** `pick` names a live worker (ready, connected, not `exclude`) to take a connection, or none. */
  constructor(pick: (exclude: Worker) => Worker | undefined) {
    this.#pick = pick;
  }

  /**
   * Starts watching the hand-offs to `worker` (call right after cluster.fork()). When it has
   * gone, its unaccepted connections are rescued and `onRescued` hears how many went where.
   */
  watch(worker: Worker, onRescued: (r: { handedOver: number; closed: number }) => void): void {
    const pending = new Map<unknown, HandOff>();
    this.#pending.set(worker, pending);
    const child = worker.process;
    const send = child.send.bind(child) as (...args: unknown[]) => boolean;
    // Wrapping send is the only place the handle is visible: node:cluster keeps it in a closure.
    child.send = ((message: unknown, handle?: unknown, ...rest: unknown[]) => {
      if (isClusterMessage(message) && message.act === "newconn" && typeof message.key === "string" && isRawHandle(handle)) {
        pending.set(message.seq, { key: message.key, handle });
      }
      return send(message, handle, ...rest);
    }) as typeof child.send;
    child.on("internalMessage", (m: unknown) => {
      if (!isClusterMessage(m) || m.ack === undefined) return;
      const h = pending.get(m.ack);
      pending.delete(m.ack);
      // node:cluster closes or re-sends its own hand-offs when the reply comes; ours are ours to finish.
      if (h && typeof m.ack === "string" && m.ack.startsWith(RESCUE_SEQ)) {
        if (m.accepted === true) h.handle.close();
        else this.#handOver(h, worker);
      }
    });
    // "close" comes after both the exit and the end of the IPC channel: by then every "accepted"
    // reply the worker sent has been read, so what is still pending was never taken.
    child.once("close", () => {
      const r = this.rescue(worker);
      if (r.handedOver + r.closed > 0) onRescued(r);
    });
  }

  /**
   * Each connection `worker` (gone) never accepted goes to the worker `pick` names, or is closed
   * when there is none. Returns how many went which way.
   */
  rescue(worker: Worker): { handedOver: number; closed: number } {
    const pending = this.#pending.get(worker);
    this.#pending.delete(worker);
    const out = { handedOver: 0, closed: 0 };
    for (const h of pending?.values() ?? []) {
      if (this.#handOver(h, worker)) out.handedOver++;
      else out.closed++;
    }
    return out;
  }

  /** Gives `h` to another worker (true) or closes it when there is none (false). */
  #handOver(h: HandOff, from: Worker): boolean {
    const to = this.#pick(from);
    if (!to?.isConnected()) {
      h.handle.close();
      return false;
    }
    to.process.send({ cmd: "NODE_CLUSTER", act: "newconn", key: h.key, seq: `${RESCUE_SEQ}${++this.#seq}` }, h.handle as never);
    return true;
  }
}

function isRawHandle(h: unknown): h is RawHandle {
  return typeof h === "object" && h !== null && typeof (h as RawHandle).close === "function" && !("readable" in h);
}
