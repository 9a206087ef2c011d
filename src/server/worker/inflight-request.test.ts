import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { test } from "node:test";
import { newRequestId, requestIdFor } from "./inflight-request.js";

const withHeaders = (...rawHeaders: string[]) => ({ rawHeaders }) as unknown as IncomingMessage;
const generated = new RegExp(`^${newRequestId().replace(/[^-]+$/, "")}[0-9a-z]+$`);

test("a sane X-Request-Id is reused whatever the case of its name; anything else gets a new id", () => {
  assert.equal(requestIdFor(withHeaders("Host", "x", "X-Request-ID", "abc-123")), "abc-123");
  assert.equal(requestIdFor(withHeaders("x-request-id", "req:7/a+b=c@d.e_f")), "req:7/a+b=c@d.e_f");
  for (const req of [
    withHeaders("Host", "x"),
    withHeaders("x-request-id", ""),
    withHeaders("x-request-id", "has space"),
    withHeaders("x-request-id", "a".repeat(201)),
    // Two ids are not one (req.headers would read them as "a, b").
    withHeaders("x-request-id", "a", "X-Request-Id", "b"),
  ]) {
    assert.match(requestIdFor(req), generated, JSON.stringify(req.rawHeaders));
  }
  assert.notEqual(requestIdFor(withHeaders()), requestIdFor(withHeaders()));
});
