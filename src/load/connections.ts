/**
 * The generator's connections: one undici Client per connection, handed out from an idle stack in
 * O(1). (undici's Pool scans its clients for a free one on every request, which at thousands of
 * connections costs more CPU than the requests themselves and makes the generator lag.)
 */
import { Client, type Dispatcher } from "undici";
import type { RequestSpec } from "./types.js";

/** Bounded set of keep-alive connections to one origin. */
export class Connections {
  readonly #origin: string;
  readonly #opts: Client.Options;
  readonly #max: number;
  readonly #idle: Client[] = [];
  readonly #all = new Set<Client>();

  constructor(origin: string, max: number, timeoutMs: number) {
    this.#origin = origin;
    this.#max = max;
    this.#opts = {
      pipelining: 1,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      connectTimeout: Math.min(timeoutMs, 10_000),
      keepAliveTimeout: 4_000,
    };
  }

  /** An idle connection, a new one while under the maximum, or undefined when all are busy. */
  acquire(): Client | undefined {
    const c = this.#idle.pop();
    if (c) return c;
    if (this.#all.size >= this.#max) return undefined;
    const fresh = new Client(this.#origin, this.#opts);
    this.#all.add(fresh);
    return fresh;
  }

  /** Returns a connection after its request finished. */
  release(c: Client): void {
    if (c.destroyed || c.closed) {
      this.#all.delete(c);
      return;
    }
    this.#idle.push(c);
  }

  /** Closes every connection; with `force`, in-flight requests fail at once. */
  async close(force = false): Promise<void> {
    await Promise.all([...this.#all].map((c) => (force ? c.destroy() : c.close()).catch(() => {})));
    this.#all.clear();
    this.#idle.length = 0;
  }
}

/** Sends one request on `client`; `done` gets the status code, or undefined and the error. */
export function dispatch(client: Client, spec: RequestSpec, done: (status: number | undefined, err?: unknown) => void): void {
  let status = 0;
  // The callback form of undici's handler (onConnect/onHeaders/…): Client.dispatch validates for it.
  const handler = {
    onConnect() {},
    onHeaders(statusCode: number) {
      status = statusCode;
      return true;
    },
    onData() {
      return true;
    },
    onComplete() {
      done(status);
    },
    onError(err: Error) {
      done(undefined, err);
    },
  } as unknown as Dispatcher.DispatchHandler;
  try {
    client.dispatch({ path: spec.path, method: (spec.method ?? "GET") as Dispatcher.HttpMethod, headers: spec.headers, body: spec.body }, handler);
  } catch (err) {
    done(undefined, err);
  }
}
