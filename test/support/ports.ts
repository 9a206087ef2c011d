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
