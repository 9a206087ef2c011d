import assert from "node:assert/strict";
import { createServer, type IncomingMessage, request, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { RequestIdResponse } from "./request-id-response.js";

/** Every way an app can write its headers, by path. */
const styles: Record<string, (res: ServerResponse) => void> = {
  "/object": (res) => {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("ok");
  },
  "/reason": (res) => {
    res.writeHead(200, "Fine", { "content-type": "text/plain" });
    res.end("ok");
  },
  "/undefined-reason": (res) => {
    res.writeHead(200, undefined, { "content-type": "text/plain" });
    res.end("ok");
  },
  "/implicit": (res) => {
    res.statusCode = 201;
    res.end("ok");
  },
  "/set-header": (res) => {
    res.setHeader("content-type", "text/plain");
    res.end("ok");
  },
  "/array": (res) => {
    res.writeHead(200, ["content-type", "text/plain", "x-extra", "1"]);
    res.end("ok");
  },
  "/own-id-set": (res) => {
    res.setHeader("X-Request-Id", "the-app's");
    res.end("ok");
  },
  "/own-id-object": (res) => {
    res.writeHead(200, { "X-Request-ID": "the-app's" });
    res.end("ok");
  },
  // Express swaps the response's prototype for its own inside the app.
  "/prototype-swapped": (res) => {
    Object.setPrototypeOf(res, Object.create(Object.getPrototypeOf(Object.getPrototypeOf(res)) as object));
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("ok");
  },
};

function get(port: number, path: string): Promise<{ status: number; headers: IncomingMessage["headers"]; raw: string[] }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, raw: res.rawHeaders }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("X-Request-Id is written with the app's headers however it writes them, once, and an app's own id wins", async () => {
  let n = 0;
  const server = createServer({ ServerResponse: RequestIdResponse }, (req, res) => {
    (res as RequestIdResponse).requestId = `id-${++n}`;
    (styles[req.url ?? ""] as (r: ServerResponse) => void)(res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  try {
    for (const path of Object.keys(styles)) {
      const r = await get(port, path);
      const ids = r.raw.filter((_, i) => i % 2 === 0 && r.raw[i]?.toLowerCase() === "x-request-id");
      assert.equal(ids.length, 1, `${path}: one x-request-id header, got ${JSON.stringify(r.raw)}`);
      if (path.startsWith("/own-id")) assert.equal(r.headers["x-request-id"], "the-app's", path);
      else assert.match(String(r.headers["x-request-id"]), /^id-\d+$/, path);
      if (path !== "/implicit" && path !== "/own-id-set") assert.equal(r.headers["content-type"] ?? "text/plain", "text/plain", path);
    }
    assert.equal((await get(port, "/reason")).status, 200);
    assert.equal((await get(port, "/implicit")).status, 201);
    assert.equal((await get(port, "/array")).headers["x-extra"], "1");
  } finally {
    await new Promise((r) => server.close(r));
  }
});

test("a response whose id was never set writes no X-Request-Id", async () => {
  const server = createServer({ ServerResponse: RequestIdResponse }, (_req, res) => {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("ok");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  try {
    assert.equal((await get(port, "/")).headers["x-request-id"], undefined);
  } finally {
    await new Promise((r) => server.close(r));
  }
});
