// What a failed scrape says, against real sockets on loopback.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { scrapeInstance } from "./scrape.js";

test("an admin endpoint that closes the connection with the request out is 'connection closed by …', not undici's words", async () => {
  // What a stopping holdfast does to a poll that arrives as it closes its admin server.
  const server = createServer((req) => req.socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const s = await scrapeInstance(url, { timeoutMs: 5000 });
    assert.equal(s.ok, false);
    assert.equal(s.ok ? "" : s.error, `connection closed by ${url}/status before it answered`);
  } finally {
    server.close();
  }
});
