import assert from "node:assert/strict";
import { test } from "node:test";
import { createCache } from "./index.js";

test("unknown options are rejected by name", () => {
  assert.throws(
    () => createCache({ url: "memory:", ttl: 5 } as never),
    (err: Error & { code?: string }) => err.code === "CONFIG_INVALID" && /"ttl"/.test(err.message),
  );
});

test("an unsupported URL names the two supported forms and hides the password", () => {
  assert.throws(
    () => createCache({ url: "memcached://u:secret@h:11211" }),
    (err: Error & { code?: string }) => {
      assert.equal(err.code, "CONFIG_INVALID");
      assert.match(err.message, /memory:/);
      assert.match(err.message, /redis:\/\//);
      assert.doesNotMatch(err.message, /secret/);
      return true;
    },
  );
});

test("out-of-range numbers are rejected", () => {
  assert.throws(() => createCache({ defaultTtlMs: 0 }), /defaultTtlMs must be a positive number/);
  assert.throws(() => createCache({ staleTtlMs: -1 }), /staleTtlMs must be 0 or more/);
  assert.throws(() => createCache({ maxEntries: Number.NaN }), /maxEntries/);
});
