import assert from "node:assert/strict";
import { test } from "node:test";
import { badRequestTarget } from "./request-target.js";

test("origin-form, absolute-form and OPTIONS * pass; targets new URL(target, base) throws on, or that are no target form, do not", () => {
  for (const ok of ["/", "/api/notes?x=1", "/[", "/%zz", "http://127.0.0.1/api", "https://[::1]:8443/x"])
    assert.equal(badRequestTarget(ok, "GET"), undefined, ok);
  assert.equal(badRequestTarget("*", "OPTIONS"), undefined);
  for (const bad of ["//[", "/\\[", "http://[::1", "http://[::1]:99999/", "*", "notes", "ftp://h/x", ""]) {
    assert.match(badRequestTarget(bad, "GET") ?? "", /request (target|has no target)/, bad);
  }
  // The reason quotes at most 100 characters of what the client sent.
  assert.ok((badRequestTarget(`//[${"a".repeat(5000)}`, "GET") as string).length < 250);
});
