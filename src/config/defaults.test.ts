import assert from "node:assert/strict";
import { test } from "node:test";
import { cacheDefaults, dbDefaults } from "./defaults.js";
import { configDefaults } from "./schema.js";

const STALE = "src/config/defaults.ts is out of step with the schema: run `npm run config:defaults`";

test("the db and cache defaults that workers load are the schema's, and frozen", () => {
  assert.deepEqual(dbDefaults, configDefaults.db, STALE);
  assert.deepEqual(cacheDefaults, configDefaults.cache, STALE);
  assert.ok(Object.isFrozen(dbDefaults.sqlite) && Object.isFrozen(cacheDefaults), "frozen like configDefaults");
});
