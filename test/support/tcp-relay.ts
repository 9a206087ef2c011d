/**
 * A TCP relay on 127.0.0.1 in front of a real server, for fault tests: `stop()` resets every
 * relayed connection and refuses new ones (the server "goes away"); `start()` listens again on
 * the same port (it "comes back").
 */
import { connect, createServer, type Server, type Socket } from "node:net";

/** Relays 127.0.0.1:port to `target` ("host:port"). */
export class TcpRelay {
  port = 0;
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  readonly #host: string;
  readonly #targetPort: number;

  constructor(host: string, port: number) {
    this.#host = host;
    this.#targetPort = port;
  }

  /** Listens (again, on the same port after the first time). */
  async start(): Promise<void> {
    const server = createServer((client) => {
      const up = connect(this.#targetPort, this.#host);
      for (const s of [client, up]) {
        this.#sockets.add(s);
        s.on("error", () => {});
        s.on("close", () => {
          this.#sockets.delete(s);
          client.destroy();
          up.destroy();
        });
      }
      client.pipe(up);
      up.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.#server = server;
  }

  /** Resets every relayed connection and stops listening: new connections are refused. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const s of this.#sockets) s.resetAndDestroy();
    this.#sockets.clear();
    if (server) await new Promise((r) => server.close(r));
  }
}
