import assert from "node:assert/strict";
import { createServer, type IncomingMessage, request, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { RequestIdResponse } from "./request-id-response.js";

const SHARED_HEADERS = Object.freeze({ "content-type": "text/plain", "cache-control": "no-store" });

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
  // One headers object reused by every response: the id is added to a copy, never to it.
  "/shared-object": (res) => {
    res.writeHead(200, SHARED_HEADERS);
    res.end("ok");
  },
  // Inherited keys are not sent (Node sends own keys only), and the copy must not add them.
  "/inherited": (res) => {
    res.writeHead(200, Object.assign(Object.create({ "x-inherited": "no" }) as object, { "content-type": "text/plain" }));
    res.end("ok");
  },
  // A "__proto__" key (JSON.parse makes one) cannot be copied by assignment: it goes the setHeader way.
  "/proto-key": (res) => {
    res.writeHead(200, JSON.parse('{"__proto__":"x","content-type":"text/plain"}') as Record<string, string>);
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
    const shared = await get(port, "/shared-object");
    assert.equal(shared.headers["cache-control"], "no-store");
    assert.deepEqual(Object.keys(SHARED_HEADERS), ["content-type", "cache-control"]);
    assert.equal((await get(port, "/inherited")).headers["x-inherited"], undefined);
    const raw = (await get(port, "/proto-key")).raw;
    assert.equal(raw[raw.indexOf("__proto__") + 1], "x", JSON.stringify(raw));
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
