/**
 * A TCP relay on 127.0.0.1 in front of a real server, for fault tests: `stop()` resets every
 * relayed connection and refuses new ones (the server "goes away"), `start()` listens again on
 * the same port (it "comes back"), `freeze()` stops traffic on open connections (a dropped
 * network), and mode "blackhole" accepts connections and never answers.
 */
import { connect, createServer, type Server, type Socket } from "node:net";

/** A TCP relay on 127.0.0.1 in front of the real server at a URL. */
export class TcpRelay {
  #server: Server | undefined;
  readonly #pairs = new Set<[Socket, Socket | undefined]>();
  mode: "forward" | "blackhole" = "forward";
  port = 0;
  readonly #target: { host: string; port: number };
  readonly #targetUrl: string;

  /** `target`: the real server's URL (e.g. postgres://user@127.0.0.1:5432/db). */
  constructor(target: string) {
    this.#targetUrl = target;
    const u = new URL(target);
    this.#target = { host: u.hostname || "127.0.0.1", port: Number(u.port || 5432) };
  }

  /** The target URL with this relay's address in it: what a client connects to instead. */
  url(): string {
    const u = new URL(this.#targetUrl);
    u.hostname = "127.0.0.1";
    u.port = String(this.port);
    return u.toString();
  }

  /** Listens (again) on the same port. */
  async start(): Promise<void> {
    const server = createServer((client) => {
      client.on("error", () => {});
      if (this.mode === "blackhole") {
        this.#pairs.add([client, undefined]);
        return;
      }
      const up = connect(this.#target.port, this.#target.host);
      up.on("error", () => client.destroy());
      client.on("error", () => up.destroy());
      client.on("close", () => up.destroy());
      up.on("close", () => client.destroy());
      client.pipe(up);
      up.pipe(client);
      this.#pairs.add([client, up]);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.#server = server;
  }

  /** The server "goes down": every connection is reset and new ones are refused. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const [a, b] of this.#pairs) {
      a.resetAndDestroy();
      b?.resetAndDestroy();
    }
    this.#pairs.clear();
    if (server) await new Promise((r) => server.close(r));
  }

  /** Traffic on existing connections stops flowing in both directions (a dropped network). */
  freeze(): void {
    for (const [a, b] of this.#pairs) {
      a.unpipe();
      b?.unpipe();
      a.pause();
      b?.pause();
    }
  }
}
