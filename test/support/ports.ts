/** Loopback ports for tests. */
import { createServer } from "node:net";

/** A loopback port nothing listens on: bind one (port 0), then release it. */
export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** What a proxy or server says when the port it was told to bind is taken. */
const PORT_TAKEN = /EADDRINUSE|Address already in use|cannot bind socket/i;

/**
 * Runs `start` with a port nothing listened on a moment ago; when another process took that port
 * before `start` bound it (a proxy given a port in its config cannot bind port 0), tries again with
 * another, up to `attempts` times. Any other failure is thrown at once.
 */
export async function onFreshPort<T>(start: (port: number) => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const port = await closedPort();
    try {
      return await start(port);
    } catch (err) {
      if (attempt >= attempts || !PORT_TAKEN.test(String((err as Error)?.message ?? err))) throw err;
    }
  }
}
